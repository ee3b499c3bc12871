"""BRENT's benchmarks: measured answers to design questions, written into ``docs/benchmarks.md``.

Run them with ``python -m benchmarks.run [--quick] [--only NAME ...]``.

Adding a suite needs no edit anywhere else: drop a module named ``benchmarks/<name>_suite.py``
(``<name>`` is the key for ``--only`` and for the section markers in the doc) that defines

* ``def run(options: SuiteOptions) -> Section``,
* optionally ``ORDER: int`` -- where a new section goes in the doc (queue is 10; default 100).

The suite does its own measuring, saves its PNGs under ``options.img_dir`` and returns a
:class:`Section`; ``benchmarks.run`` prints its ``console`` text and replaces (or appends) the
section between markers in the doc, leaving hand-written text and other suites' sections alone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SuiteOptions:
    """What every suite is told. ``quick`` promises a few seconds per suite, for smoke runs."""

    quick: bool
    img_dir: Path  # absolute; suites write PNGs here
    doc_dir: Path  # absolute; image links in markdown are relative to this directory


@dataclass(frozen=True, slots=True)
class Section:
    """One suite's contribution: markdown for the doc, plain text for the terminal."""

    title: str
    markdown: str  # body below the section's "## title" heading; no heading of its own
    console: str = ""
    plots: tuple[Path, ...] = field(default=())  # files written, for the summary line
