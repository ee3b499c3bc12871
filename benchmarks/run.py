"""Entry point: ``python -m benchmarks.run [--quick] [--only NAME ...]``.

Finds every ``benchmarks/*_suite.py`` module, runs the chosen ones, prints their tables and writes
each one's section into ``docs/benchmarks.md`` between markers (``--quick`` writes to the git-ignored
``benchmarks/results/`` instead, so smoke numbers never replace the committed ones). Text outside the markers (the
hand-written introduction) and sections of suites that did not run are kept as they are, so suites
written by different people, run at different times, share one document.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import benchmarks
from benchmarks import Section, SuiteOptions

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parent.parent
SUFFIX = "_suite"
DEFAULT_ORDER = 100
FULL_DOC = REPO / "docs" / "benchmarks.md"
QUICK_DOC = REPO / "benchmarks" / "results" / "benchmarks-quick.md"  # git-ignored
_MARKER = re.compile(r"<!-- benchmark:(?P<name>[a-z0-9_]+):(?P<order>-?\d+):start -->")
_NEW_DOC = "# Benchmarks\n\nGenerated sections below come from `python -m benchmarks.run`.\n"


@dataclass(frozen=True, slots=True)
class Suite:
    name: str  # the module name without "_suite": what --only and the doc markers use
    order: int
    module: ModuleType

    def run(self, options: SuiteOptions) -> Section:
        return self.module.run(options)


def suite_names() -> list[str]:
    """Every suite module in the package, without importing any of them."""
    return sorted(
        info.name.removesuffix(SUFFIX)
        for info in pkgutil.iter_modules(benchmarks.__path__)
        if info.name.endswith(SUFFIX)
    )


def load_suite(name: str) -> Suite:
    module = importlib.import_module(f"benchmarks.{name}{SUFFIX}")
    if not callable(getattr(module, "run", None)):
        raise TypeError(f"benchmarks.{name}{SUFFIX} has no run(options) -> Section")
    return Suite(name=name, order=int(getattr(module, "ORDER", DEFAULT_ORDER)), module=module)


def _markers(name: str, order: int) -> tuple[str, str]:
    return f"<!-- benchmark:{name}:{order}:start -->", f"<!-- benchmark:{name}:end -->"


def compose(document: str, name: str, order: int, section: Section) -> str:
    """``document`` with suite ``name``'s section replaced, or inserted in ``order`` if it is new."""
    start, end = _markers(name, order)
    block = f"{start}\n## {section.title}\n\n{section.markdown.strip()}\n{end}"
    existing = re.compile(
        rf"<!-- benchmark:{re.escape(name)}:-?\d+:start -->.*?<!-- benchmark:{re.escape(name)}:end -->", re.DOTALL
    )
    if existing.search(document):
        return existing.sub(lambda _: block, document, count=1)
    for match in _MARKER.finditer(document):
        if int(match.group("order")) > order:
            at = match.start()
            return f"{document[:at]}{block}\n\n{document[at:]}"
    return f"{document.rstrip()}\n\n{block}\n"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small repeats and sizes: a smoke run in seconds")
    parser.add_argument("--only", action="append", metavar="NAME", help="run only this suite (repeatable)")
    parser.add_argument("--list", action="store_true", help="list the suites and exit")
    parser.add_argument(
        "--doc", type=Path, help="markdown file to update (default docs/benchmarks.md; with --quick, under benchmarks/results/)"
    )
    parser.add_argument("--img-dir", type=Path, help="where suites save PNGs (default: img/ next to the doc)")
    parser.add_argument("--no-doc", action="store_true", help="print results without touching the doc")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    available = suite_names()
    if args.list:
        print("\n".join(available))
        return 0
    chosen = args.only or available
    unknown = sorted(set(chosen) - set(available))
    if unknown:
        print(f"unknown suite(s): {', '.join(unknown)}; available: {', '.join(available)}", file=sys.stderr)
        return 2

    # Quick numbers must never replace the committed full ones by accident.
    default_doc = QUICK_DOC if args.quick else FULL_DOC
    doc_path: Path = (args.doc or default_doc).resolve()
    img_dir: Path = (args.img_dir or doc_path.parent / "img").resolve()
    options = SuiteOptions(quick=args.quick, img_dir=img_dir, doc_dir=doc_path.parent)
    document = doc_path.read_text(encoding="utf-8") if doc_path.exists() else _NEW_DOC
    failed: list[str] = []
    for name in chosen:
        started = time.perf_counter()
        try:
            suite = load_suite(name)
            section = suite.run(options)
        except Exception:
            log.exception("suite %s failed", name)
            failed.append(name)
            continue
        elapsed = time.perf_counter() - started
        print(f"\n== {section.title} ({name}, {elapsed:.1f} s) ==")
        if section.console:
            print(section.console)
        for plot in section.plots:
            print(f"plot: {plot}")
        document = compose(document, suite.name, suite.order, section)

    if not args.no_doc:
        doc_path.parent.mkdir(parents=True, exist_ok=True)
        doc_path.write_text(document, encoding="utf-8")
        print(f"\nwrote {doc_path}")
    if failed:
        print(f"failed suites: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
