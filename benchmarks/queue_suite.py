"""Queue-structure study (issue 6): which structure should hold a guild's upcoming tracks?

Times the operations a music bot performs on its queue, on each candidate in
``benchmarks.queue_structures`` and on the shipped ``audio.queue.TrackQueue`` when it exists, at
queue sizes from 10 to 100 000 tracks; measures memory per 100 000 entries; draws log-log plots;
and writes the findings as the "queue" section of ``docs/benchmarks.md``.
"""

from __future__ import annotations

import functools
import gc
import importlib
import logging
import math
import random
import time
import tracemalloc
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from audio.track import Provider, Track
from benchmarks import Section, SuiteOptions
from benchmarks.queue_structures import CANDIDATES
from benchmarks.timing import Timing, measure

log = logging.getLogger(__name__)

NAME = "queue"
ORDER = 10

FULL_SIZES = (10, 100, 1_000, 10_000, 100_000)
QUICK_SIZES = (10, 1_000, 100_000)
PAGE_SIZE = 10
MEMORY_ENTRIES = 100_000
SEED = 6


@dataclass(frozen=True, slots=True)
class Op:
    key: str
    label: str
    changes_size: bool  # True: each repeat starts from fresh copies so the size stays near N
    when: str  # how often a music bot does it


OPS: tuple[Op, ...] = (
    Op("add", "add (append)", True, "every `play`"),
    Op("add_next", "add-next (push front)", True, "`playnext`"),
    Op("pop_front", "pop-front", True, "every track change"),
    Op("remove_middle", "remove(middle)", True, "`remove N`"),
    Op("move_middle_to_front", "move(middle -> front)", False, "`move N 1`"),
    Op("shuffle", "shuffle", False, "`shuffle` (rare)"),
    Op("page_middle", "page k of 10 (middle)", False, "`queue k`"),
    Op("page_end", "page k of 10 (end)", False, "`queue k`"),
)


class Subject(Protocol):
    """A structure under test, seen by the harness: build it, and bind one call of an operation."""

    name: str

    def build(self, items: Sequence[Track]) -> Any: ...
    def grow(self, items: Iterable[Track]) -> Any: ...
    def call(self, target: Any, op: str, size: int, item: Track, rng: random.Random) -> Callable[[], object]: ...


class CandidateSubject:
    """Any structure from ``queue_structures`` (0-based indices)."""

    def __init__(self, factory: Callable[[Iterable[Any]], Any]) -> None:
        self._factory = factory
        self.name: str = factory.name  # type: ignore[attr-defined]

    def build(self, items: Sequence[Track]) -> Any:
        return self._factory(items)

    def grow(self, items: Iterable[Track]) -> Any:
        target = self._factory(())
        for item in items:
            target.add(item)
        return target

    def call(self, target: Any, op: str, size: int, item: Track, rng: random.Random) -> Callable[[], object]:
        middle = size // 2
        calls: dict[str, Callable[[], object]] = {
            "add": functools.partial(target.add, item),
            "add_next": functools.partial(target.add_next, item),
            "pop_front": target.pop_front,
            "remove_middle": functools.partial(target.remove, middle),
            "move_middle_to_front": functools.partial(target.move, middle, 0),
            "shuffle": functools.partial(target.shuffle, rng),
            "page_middle": functools.partial(target.page, middle // PAGE_SIZE, PAGE_SIZE),
            "page_end": functools.partial(target.page, (size - 1) // PAGE_SIZE, PAGE_SIZE),
        }
        return calls[op]


class TrackQueueSubject:
    """The shipped ``audio.queue.TrackQueue`` through its own API (1-based positions)."""

    name = "TrackQueue (shipped)"

    def __init__(self, queue_class: type) -> None:
        self._queue_class = queue_class

    def _empty(self) -> Any:
        try:
            queue = self._queue_class(max_length=None)
        except TypeError:
            queue = self._queue_class()
        if getattr(queue, "max_length", None) is not None:
            queue.max_length = None  # the cap is policy, not structure; the study goes past it
        return queue

    def build(self, items: Sequence[Track]) -> Any:
        return self.grow(items)

    def grow(self, items: Iterable[Track]) -> Any:
        queue = self._empty()
        for item in items:
            queue.add(item)
        return queue

    def call(self, target: Any, op: str, size: int, item: Track, rng: random.Random) -> Callable[[], object]:
        middle = size // 2
        calls: dict[str, Callable[[], object]] = {
            "add": functools.partial(target.add, item),
            "add_next": functools.partial(target.add_next, item),
            "pop_front": target.pop_next,
            "remove_middle": functools.partial(target.remove, middle + 1),
            "move_middle_to_front": functools.partial(target.move, middle + 1, 1),
            "shuffle": functools.partial(target.shuffle, rng),
            "page_middle": functools.partial(target.page, middle // PAGE_SIZE + 1, PAGE_SIZE),
            "page_end": functools.partial(target.page, (size - 1) // PAGE_SIZE + 1, PAGE_SIZE),
        }
        return calls[op]


def shipped_subject() -> tuple[TrackQueueSubject | None, str]:
    """The shipped queue if ``audio/queue.py`` is importable, else None and why."""
    try:
        module = importlib.import_module("audio.queue")
        queue_class = module.TrackQueue
    except (ImportError, AttributeError) as exc:
        log.warning("audio.queue.TrackQueue not available; benchmarking raw structures only: %s", exc)
        return None, f"`audio.queue.TrackQueue` could not be imported ({type(exc).__name__}), so it is not in the tables."
    return TrackQueueSubject(queue_class), ""


def make_tracks(count: int, *, prefix: str = "t") -> list[Track]:
    """Tracks shaped like real ones (title, watch URL, thumbnail), so memory figures are honest."""
    return [
        Track(
            title=f"Artist {i % 997} - Some Song Title Number {i}",
            page_url=f"https://www.youtube.com/watch?v={prefix}{i:010d}",
            duration=180.0 + i % 240,
            uploader=f"Artist {i % 997}",
            thumbnail=f"https://i.ytimg.com/vi/{prefix}{i:010d}/hqdefault.jpg",
            provider=Provider.YOUTUBE,
            requester_id=100_000_000_000_000_000 + i % 50,
        )
        for i in range(count)
    ]


@dataclass(frozen=True, slots=True)
class Plan:
    sizes: tuple[int, ...]
    repeats: int
    target_s: float  # wall time one repeat aims for
    max_ops: int
    budget_s: float  # per (structure, operation, size) cell


FULL_PLAN = Plan(FULL_SIZES, repeats=9, target_s=0.01, max_ops=2_000, budget_s=2.0)
QUICK_PLAN = Plan(QUICK_SIZES, repeats=3, target_s=0.001, max_ops=300, budget_s=0.3)


class _NullQueue:
    def add(self, item: Track) -> None:
        return None


def harness_floor(plan: Plan, item: Track) -> Timing:
    """What the harness itself costs per operation (a loop step plus a bound-method call)."""
    calls = [functools.partial(_NullQueue().add, item)] * plan.max_ops

    def run_calls() -> None:
        for call in calls:
            call()

    return measure(run_calls, ops_per_call=len(calls), repeats=plan.repeats)


def time_cell(subject: Subject, op: Op, size: int, tracks: Sequence[Track], extras: Sequence[Track], plan: Plan) -> Timing:
    """Median/min microseconds for one operation on one structure at one size.

    Size-changing operations run at most ``size // 100`` times (at least once) on each fresh copy,
    so the queue stays within 1 % of ``size`` while timed; enough copies are built untimed before
    each repeat to fill the batch. Size-preserving operations reuse one structure.
    """
    items = tracks[:size]
    rng = random.Random(SEED)
    probe = subject.build(items)
    started = time.perf_counter()
    subject.call(probe, op.key, size, extras[0], rng)()
    estimate = max(time.perf_counter() - started, 1e-7)
    wanted = max(1, min(plan.max_ops, math.ceil(plan.target_s / estimate)))

    if not op.changes_size:
        target = subject.build(items)
        calls = [subject.call(target, op.key, size, extras[0], rng)] * wanted

        def prepare() -> None:
            return None

    else:
        per_copy = max(1, min(100, size // 100))
        copies = max(1, min(math.ceil(wanted / per_copy), max(1, 200_000 // size)))
        wanted = min(wanted, copies * per_copy)
        calls = []

        def prepare() -> None:
            calls.clear()
            for copy_number in range(copies):
                queue = subject.build(items)
                for step in range(per_copy):
                    if len(calls) == wanted:
                        return
                    current = size + step if op.key.startswith("add") else size - step
                    extra = extras[(copy_number * per_copy + step) % len(extras)]
                    calls.append(subject.call(queue, op.key, current, extra, rng))

    def run_calls() -> None:
        for call in calls:
            call()

    return measure(run_calls, setup=prepare, ops_per_call=wanted, repeats=plan.repeats, budget_s=plan.budget_s)


def traced_bytes(build: Callable[[], object]) -> int:
    """Bytes still allocated after ``build`` returns, i.e. what its result holds on to."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        kept = build()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    del kept
    return after - before


Results = dict[tuple[str, str, int], Timing]


def _fmt_us(value: float) -> str:
    if value >= 1000:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _fmt_size(size: int) -> str:
    return f"{size:,}".replace(",", " ")


def _plot_op(op: Op, names: Sequence[str], sizes: Sequence[int], results: Results, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    fig, ax = plt.subplots(figsize=(5.2, 3.6), dpi=100)
    for name in names:
        points = [(n, results[(name, op.key, n)]) for n in sizes if (name, op.key, n) in results]
        if not points:
            continue
        xs = [n for n, _ in points]
        line = ax.plot(xs, [t.median_us for _, t in points], marker="o", label=name)[0]
        ax.fill_between(xs, [t.min_us for _, t in points], [t.median_us for _, t in points], color=line.get_color(), alpha=0.15)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("queue length (entries)")
    ax.set_ylabel("µs per operation (median)")
    ax.set_title(op.label)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _plot_memory(memory: dict[str, int], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    fig, ax = plt.subplots(figsize=(5.2, 3.0), dpi=100)
    names = list(memory)
    ax.barh(names, [memory[n] / 1e6 for n in names])
    ax.set_xlabel(f"MB held by the structure for {MEMORY_ENTRIES:,} entries (tracks excluded)")
    ax.invert_yaxis()
    ax.grid(True, axis="x", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def run(options: SuiteOptions) -> Section:
    plan = QUICK_PLAN if options.quick else FULL_PLAN
    shipped, shipped_note = shipped_subject()
    subjects: list[Subject] = [CandidateSubject(factory) for factory in CANDIDATES]
    if shipped is not None:
        subjects.append(shipped)
    names = [s.name for s in subjects]

    largest = max(max(plan.sizes), MEMORY_ENTRIES)
    tracks = make_tracks(largest)
    extras = make_tracks(1_000, prefix="x")

    results: Results = {}
    skipped: list[str] = []
    for subject in subjects:
        for op in OPS:
            for size in plan.sizes:
                try:
                    results[(subject.name, op.key, size)] = time_cell(subject, op, size, tracks, extras, plan)
                except Exception as exc:  # a shipped queue with other limits must not sink the study
                    log.warning("%s %s at %d failed: %r", subject.name, op.key, size, exc)
                    skipped.append(f"{subject.name} {op.label} at {size}: {type(exc).__name__}")
            log.info("timed %s", subject.name)
    floor = harness_floor(plan, extras[0])

    memory: dict[str, int] = {}
    for subject in subjects:
        try:
            memory[subject.name] = traced_bytes(lambda s=subject: s.grow(tracks[:MEMORY_ENTRIES]))
        except Exception as exc:
            log.warning("memory of %s failed: %r", subject.name, exc)
    track_bytes = traced_bytes(lambda: make_tracks(MEMORY_ENTRIES, prefix="m"))

    options.img_dir.mkdir(parents=True, exist_ok=True)
    plots: list[Path] = []
    for op in OPS:
        path = options.img_dir / f"queue-{op.key.replace('_', '-')}.png"
        _plot_op(op, names, plan.sizes, results, path)
        plots.append(path)
    memory_path = options.img_dir / "queue-memory.png"
    _plot_memory(memory, memory_path)
    plots.append(memory_path)

    markdown = render_markdown(
        options, plan, names, results, floor, memory, track_bytes, plots, shipped_note, skipped
    )
    return Section(
        title="Queue data structures",
        markdown=markdown,
        console=render_console(names, plan.sizes, results, floor, memory),
        plots=tuple(plots),
    )


def render_console(names: Sequence[str], sizes: Sequence[int], results: Results, floor: Timing, memory: dict[str, int]) -> str:
    width = max(len(n) for n in names) + 2
    lines = [f"median µs per operation (harness floor {floor.median_us:.3f} µs)"]
    header = f"{'operation':24}{'structure':{width}}" + "".join(f"{_fmt_size(n):>12}" for n in sizes)
    lines.append(header)
    lines.append("-" * len(header))
    for op in OPS:
        for name in names:
            cells = "".join(
                f"{_fmt_us(results[(name, op.key, n)].median_us) if (name, op.key, n) in results else '-':>12}" for n in sizes
            )
            lines.append(f"{op.label:24}{name:{width}}{cells}")
    lines.append("")
    lines.append(f"memory for {MEMORY_ENTRIES:,} entries: " + ", ".join(f"{n} {b / 1e6:.2f} MB" for n, b in memory.items()))
    return "\n".join(lines)


def _cell(results: Results, name: str, op: str, size: int) -> str:
    timing = results.get((name, op, size))
    if timing is None:
        return "–"
    return f"{_fmt_us(timing.median_us)} ({_fmt_us(timing.min_us)})"


def _median(results: Results, name: str, op: str, size: int) -> float:
    timing = results.get((name, op, size))
    return math.nan if timing is None else timing.median_us


def render_markdown(
    options: SuiteOptions,
    plan: Plan,
    names: Sequence[str],
    results: Results,
    floor: Timing,
    memory: dict[str, int],
    track_bytes: int,
    plots: Sequence[Path],
    shipped_note: str,
    skipped: Sequence[str],
) -> str:
    sizes = plan.sizes
    realistic = 1_000 if 1_000 in sizes else sizes[len(sizes) // 2]
    out: list[str] = []
    mode = "quick" if options.quick else "full"
    out.append(
        f"Generated by `python -m benchmarks.run{' --quick' if options.quick else ''} --only queue` ({mode} mode, "
        f"{plan.repeats} repeats per cell). Numbers are **median (min) µs per operation**; "
        f"the harness itself costs about {floor.median_us:.3f} µs per operation (loop step plus a bound-method call), "
        "so anything near that is free."
    )
    if shipped_note:
        out.append(f"\n> Note: {shipped_note}")
    out.append("\n### How the tests are set up\n")
    out.append(
        "- **Same operations, same interface.** Each candidate lives in `benchmarks/queue_structures.py` behind one "
        "tiny interface (`add`, `add_next`, `pop_front`, `remove(i)`, `move(i, j)`, `shuffle(rng)`, `page(k, size)`). "
        "`tests/benchmarks/test_queue_structures.py` checks that they all behave exactly like the shipped queue, so "
        "the timings compare structures, not different semantics. The shipped `TrackQueue` is timed through its own "
        "public API (1-based positions, bounds checks, `QueuePage`), so its row includes that overhead.\n"
        "- **Realistic items.** Entries are `Track` objects shaped like YouTube results, created once and shared, so "
        "neither timing nor memory counts building them.\n"
        "- **timeit with repeats.** `timeit.Timer` runs a prepared batch of bound calls (GC disabled while timing); "
        f"each cell is repeated {plan.repeats} times and reported as median and minimum. The batch is sized so one "
        f"repeat lasts about {plan.target_s * 1000:g} ms (at most {plan.max_ops} operations).\n"
        "- **Size held steady.** Operations that change the length (add, add-next, pop-front, remove) run at most "
        "`N // 100` times (at least once) on each fresh copy, and the copies are built untimed before every repeat, "
        "so every timed call sees a queue within 1 % of N. Move, shuffle and page keep the length and reuse one queue.\n"
        "- **Where in the queue.** remove and move take the middle entry (the worst case for deque and the linked "
        "list, which walk from the nearer end); move puts it at the front; pages are 10 entries, one near the middle, "
        "one at the end.\n"
        "- **Memory.** `tracemalloc` counts the bytes a structure still holds after 100 000 `add` calls, the way a "
        "queue really grows (so list over-allocation is included), excluding the tracks themselves.\n"
        "- **CI times nothing.** The test suite checks behaviour only; timings come from this command on a quiet machine."
    )
    out.append(f"\n### At a realistic queue length ({_fmt_size(realistic)} entries)\n")
    out.append("| operation | how often | " + " | ".join(names) + " |")
    out.append("|---|---|" + "---:|" * len(names))
    for op in OPS:
        out.append(f"| {op.label} | {op.when} | " + " | ".join(_cell(results, n, op.key, realistic) for n in names) + " |")

    out.append("\n### Growth with queue length\n")
    rel = {p.name: p for p in plots}
    for op in OPS:
        out.append(f"#### {op.label}\n")
        out.append("| structure | " + " | ".join(_fmt_size(n) for n in sizes) + " |")
        out.append("|---|" + "---:|" * len(sizes))
        for name in names:
            out.append(f"| {name} | " + " | ".join(_cell(results, name, op.key, n) for n in sizes) + " |")
        image = rel[f"queue-{op.key.replace('_', '-')}.png"]
        out.append(f"\n![{op.label}: µs per operation against queue length, log-log]({_relative(image, options.doc_dir)})\n")

    out.append(f"### Memory for {_fmt_size(MEMORY_ENTRIES)} entries\n")
    out.append("| structure | MB held | bytes per entry |")
    out.append("|---|---:|---:|")
    for name, held in memory.items():
        out.append(f"| {name} | {held / 1e6:.2f} | {held / MEMORY_ENTRIES:.1f} |")
    out.append(
        f"\nFor scale: the {_fmt_size(MEMORY_ENTRIES)} `Track` objects themselves (with their strings) take "
        f"{track_bytes / 1e6:.1f} MB ({track_bytes / MEMORY_ENTRIES:.0f} bytes each)."
    )
    out.append(f"\n![memory per structure]({_relative(rel['queue-memory.png'], options.doc_dir)})\n")
    if skipped:
        out.append("Cells that could not be measured: " + "; ".join(skipped) + ".\n")

    out.append(conclusion(names=names, results=results, sizes=sizes, memory=memory, track_bytes=track_bytes))
    return "\n".join(out)


def _relative(path: Path, doc_dir: Path) -> str:
    try:
        return path.relative_to(doc_dir).as_posix()
    except ValueError:
        return path.as_posix()


def conclusion(
    *, names: Sequence[str], results: Results, sizes: Sequence[int], memory: dict[str, int], track_bytes: int
) -> str:
    return "### Conclusion\n\nTODO"
