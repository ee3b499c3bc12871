"""Queue-structure study: which structure should hold a guild's upcoming tracks?

Times the operations a music bot performs on its queue, on each candidate in
``benchmarks.queue_structures`` and on the shipped ``audio.queue.TrackQueue`` when it exists, at
queue sizes from 10 to 100 000 tracks; measures memory per 100 000 entries; draws log-log plots;
and writes the findings as the "queue" section of ``docs/benchmarks.md``.
"""

from __future__ import annotations

import functools
import gc
import importlib
import itertools
import logging
import math
import os
import platform
import random
import time
import tracemalloc
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from audio.track import Provider, Track
from benchmarks import Section, SuiteOptions
from benchmarks.queue_structures import CANDIDATES
from benchmarks.timing import Timing, measure

log = logging.getLogger(__name__)

ORDER = 10

FULL_SIZES = (10, 100, 1_000, 10_000, 100_000)
QUICK_SIZES = (10, 1_000, 10_000)
PAGE_SIZE = 10
MEMORY_ENTRIES = 100_000  # memory is reported per this many entries
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

    def build(self, items: Iterable[Track]) -> Any: ...
    def call(self, target: Any, op: str, size: int, item: Track, rng: random.Random) -> Callable[[], object]: ...


class CandidateSubject:
    """Any structure from ``queue_structures`` (0-based indices)."""

    def __init__(self, factory: Callable[[Iterable[Any]], Any]) -> None:
        self._factory = factory
        self.name: str = factory.name  # type: ignore[attr-defined]

    def build(self, items: Iterable[Track]) -> Any:
        # Grown by add, like a real queue: a list made by list(items) has no spare room, and its
        # first append would reallocate and be charged to the benchmark.
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

    def build(self, items: Iterable[Track]) -> Any:
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
    memory_entries: int  # measured at this length, reported scaled to MEMORY_ENTRIES


FULL_PLAN = Plan(FULL_SIZES, repeats=15, target_s=0.01, max_ops=2_000, budget_s=2.0, memory_entries=MEMORY_ENTRIES)
QUICK_PLAN = Plan(QUICK_SIZES, repeats=3, target_s=0.001, max_ops=100, budget_s=0.3, memory_entries=10_000)


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
        calls = [subject.call(probe, op.key, size, extras[0], rng)] * wanted

        def prepare() -> None:
            return None

    else:
        per_copy = max(1, min(100, size // 100))
        copies = max(1, min(math.ceil(wanted / per_copy), max(1, 50_000 // size)))
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


@dataclass(frozen=True, slots=True)
class QueueStudy:
    """Everything measured in one run; ``benchmarks.queue_report`` turns it into text and plots."""

    quick: bool
    plan: Plan
    names: tuple[str, ...]
    results: Results
    floor: Timing
    memory: dict[str, int]  # bytes per MEMORY_ENTRIES entries
    track_bytes: int  # the Track objects themselves, per MEMORY_ENTRIES
    pitfalls: dict[tuple[str, int], Timing]
    shipped_note: str
    skipped: tuple[str, ...]
    machine: str  # where the numbers come from, load included: they are only valid there


PITFALLS = (
    "shuffle: rng.shuffle(deque) in place",
    "shuffle: list round trip",
    "page (middle): islice",
    "page (middle): index per item",
)


def deque_pitfalls(plan: Plan, tracks: Sequence[Track]) -> dict[tuple[str, int], Timing]:
    """Two easy ways to write TrackQueue slowly, timed against the way it is written.

    ``random.shuffle`` accepts a deque but indexes it 2n times (each lookup walks blocks), and
    ``itertools.islice`` pages step item by item from the left end.
    """
    out: dict[tuple[str, int], Timing] = {}
    rng = random.Random(SEED)
    for size in plan.sizes[1:]:
        queue: deque[Track] = deque(tracks[:size])
        start = (size // 2) // PAGE_SIZE * PAGE_SIZE

        def round_trip(queue: deque[Track] = queue) -> None:
            items = list(queue)
            rng.shuffle(items)
            queue.clear()
            queue.extend(items)

        cases: dict[str, Callable[[], object]] = {
            PITFALLS[0]: functools.partial(rng.shuffle, queue),
            PITFALLS[1]: round_trip,
            PITFALLS[2]: lambda q=queue, s=start: tuple(itertools.islice(q, s, s + PAGE_SIZE)),
            PITFALLS[3]: lambda q=queue, s=start: tuple(q[i] for i in range(s, s + PAGE_SIZE)),
        }
        for label, case in cases.items():
            out[(label, size)] = measure(case, repeats=plan.repeats, budget_s=plan.budget_s)
    return out


def describe_machine() -> str:
    """Platform, CPUs, Python and the load when the run started (a busy machine widens the medians)."""
    try:
        load = f", load average {os.getloadavg()[0]:.1f} at start"
    except (AttributeError, OSError):  # not on Windows
        load = ""
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, "
        f"{platform.python_implementation()} {platform.python_version()}{load}"
    )


def run(options: SuiteOptions) -> Section:
    from benchmarks import queue_report  # imports matplotlib; it needs this module's types

    plan = QUICK_PLAN if options.quick else FULL_PLAN
    machine = describe_machine()
    shipped, shipped_note = shipped_subject()
    subjects: list[Subject] = [CandidateSubject(factory) for factory in CANDIDATES]
    if shipped is not None:
        subjects.append(shipped)

    tracks = make_tracks(max(max(plan.sizes), plan.memory_entries))
    extras = make_tracks(1_000, prefix="x")

    results: Results = {}
    skipped: list[str] = []
    # Structures take turns within each (size, operation), so a burst of other work on the machine
    # hits them all rather than one structure's whole row.
    for size in plan.sizes:
        size_started = time.perf_counter()
        for op in OPS:
            for subject in subjects:
                try:
                    results[(subject.name, op.key, size)] = time_cell(subject, op, size, tracks, extras, plan)
                except Exception as exc:  # a shipped queue with other limits must not sink the study
                    log.warning("%s %s at %d failed: %r", subject.name, op.key, size, exc)
                    skipped.append(f"{subject.name} {op.label} at {size}: {type(exc).__name__}")
        log.info("timed N=%d in %.1f s", size, time.perf_counter() - size_started)
    floor = harness_floor(plan, extras[0])
    pitfalls = deque_pitfalls(plan, tracks)

    memory: dict[str, int] = {}
    for subject in subjects:
        try:
            held = traced_bytes(lambda s=subject: s.build(tracks[: plan.memory_entries]))
        except Exception as exc:
            log.warning("memory of %s failed: %r", subject.name, exc)
            continue
        memory[subject.name] = round(held * MEMORY_ENTRIES / plan.memory_entries)
    track_bytes = traced_bytes(lambda: make_tracks(plan.memory_entries, prefix="m"))
    log.info("measured memory and pitfalls")

    study = QueueStudy(
        quick=options.quick,
        plan=plan,
        names=tuple(s.name for s in subjects),
        results=results,
        floor=floor,
        memory=memory,
        track_bytes=track_bytes * MEMORY_ENTRIES // plan.memory_entries,
        pitfalls=pitfalls,
        shipped_note=shipped_note,
        skipped=tuple(skipped),
        machine=machine,
    )
    plots = queue_report.draw_plots(study, options.img_dir)
    return Section(
        title="Queue data structures",
        markdown=queue_report.render_markdown(study, plots, options.doc_dir),
        console=queue_report.render_console(study),
        plots=tuple(plots.values()),
    )
