"""The queue report reads growth and numbers off the study correctly (synthetic timings, no clock)."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.queue_report import growth_exponent, render_console, render_markdown
from benchmarks.queue_suite import FULL_PLAN, OPS, PITFALLS, QueueStudy
from benchmarks.timing import Timing

NAMES = ("deque", "list", "linked list", "chunked list")


def synthetic_study(cost: dict[str, float], *, names: tuple[str, ...] = NAMES, missing: int | None = None) -> QueueStudy:
    """Every cell costs ``cost[name] * N ** exponent`` µs, with exponent 1 for list and 0 otherwise."""
    results = {}
    for name in names:
        for op in OPS:
            for size in FULL_PLAN.sizes:
                if size == missing and name == "list":
                    continue
                us = cost[name] * (size if name == "list" else 1)
                results[(name, op.key, size)] = Timing(min_us=us * 0.9, median_us=us, repeats=9, ops=10)
    return QueueStudy(
        quick=False,
        plan=FULL_PLAN,
        names=names,
        results=results,
        floor=Timing(0.05, 0.06, 9, 100),
        memory={name: 800_000 for name in names},
        track_bytes=49_000_000,
        pitfalls={(label, n): Timing(1.0, 2.0, 9, 1) for label in PITFALLS for n in FULL_PLAN.sizes[1:]},
        shipped_note="",
        skipped=(),
        machine="Linux x86_64, 2 CPUs, CPython 3.11.2",
    )


def plots(tmp_path: Path) -> dict[str, Path]:
    return {key: tmp_path / "img" / f"{key}.png" for key in [op.key for op in OPS] + ["memory"]}


def test_growth_exponent_tells_constant_from_linear() -> None:
    study = synthetic_study({"deque": 0.1, "list": 0.001, "linked list": 1.0, "chunked list": 0.5})
    assert growth_exponent(study, "deque", "pop_front") == pytest.approx(0.0)
    assert growth_exponent(study, "list", "pop_front") == pytest.approx(1.0)


def test_markdown_quotes_the_measured_cells_and_links_plots_relative_to_the_doc(tmp_path: Path) -> None:
    study = synthetic_study({"deque": 0.1, "list": 0.001, "linked list": 1.0, "chunked list": 0.5})
    text = render_markdown(study, plots(tmp_path), tmp_path)
    assert "| deque | 0.09 (0.10) | 0.09 (0.10) |" in text
    assert "| list | 0.01 (0.01) | 0.09 (0.10) | 0.90 (1.00) | 9.00 (10.0) | 90.0 (100.0) |" in text
    assert "](img/pop_front.png)" in text


def test_missing_cells_and_absent_shipped_queue_still_render(tmp_path: Path) -> None:
    study = synthetic_study({"deque": 0.1, "list": 0.001, "linked list": 1.0, "chunked list": 0.5}, missing=100_000)
    text = render_markdown(study, plots(tmp_path), tmp_path)
    assert "| list | 0.01 (0.01) | 0.09 (0.10) | 0.90 (1.00) | 9.00 (10.0) | – |" in text
    rows = [line.split() for line in render_console(study).splitlines() if line.startswith("pop-front")]
    assert [row[-1] for row in rows] == ["0.09", "–", "0.90", "0.45"]
