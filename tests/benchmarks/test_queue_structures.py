"""The benchmark's candidate queues behave exactly like the shipped TrackQueue.

Timings only mean something if every structure does the same job, so these tests run the same
operation sequences on every candidate, on a plain-list model of the documented semantics, and
on ``audio.queue.TrackQueue``, and demand identical results. Nothing here is timed.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audio.track import Provider, Track
from benchmarks.queue_structures import CANDIDATES, ChunkedList, DequeQueue, LinkedListQueue, ListQueue
from benchmarks.queue_suite import OPS, CandidateSubject, TrackQueueSubject

Factory = Callable[[Iterable[Any]], Any]

FACTORIES: dict[str, Factory] = {
    "deque": DequeQueue,
    "list": ListQueue,
    "linked list": LinkedListQueue,
    "chunked list": ChunkedList,
    # Tiny chunks force splits, emptied chunks and cross-chunk pages within a few operations.
    "chunked list, chunk 2": lambda items: ChunkedList(items, chunk_size=2),
    "chunked list, chunk 3": lambda items: ChunkedList(items, chunk_size=3),
}


def track(n: int) -> Track:
    return Track(
        title=f"song {n}",
        page_url=f"https://www.youtube.com/watch?v=id{n:08d}",
        duration=float(n),
        uploader=None,
        thumbnail=None,
        provider=Provider.YOUTUBE,
    )


class ListModel:
    """The documented semantics, written as directly as possible on a Python list."""

    def __init__(self, items: Iterable[Any] = ()) -> None:
        self.items = list(items)

    def add(self, item: Any) -> None:
        self.items.append(item)

    def add_next(self, item: Any) -> None:
        self.items.insert(0, item)

    def pop_front(self) -> Any:
        if not self.items:
            raise IndexError
        return self.items.pop(0)

    def remove(self, index: int) -> Any:
        if not 0 <= index < len(self.items):
            raise IndexError
        return self.items.pop(index)

    def move(self, source: int, target: int) -> Any:
        if not (0 <= source < len(self.items) and 0 <= target < len(self.items)):
            raise IndexError
        item = self.items.pop(source)
        self.items.insert(target, item)
        return item

    def shuffle(self, rng: random.Random) -> None:
        rng.shuffle(self.items)

    def page(self, number: int, size: int = 10) -> tuple[Any, ...]:
        return tuple(self.items[number * size : (number + 1) * size])

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Any:
        return iter(self.items)


class ShippedAsCandidate:
    """TrackQueue seen through the candidates' 0-based interface, errors mapped to IndexError."""

    def __init__(self, items: Iterable[Track] = ()) -> None:
        from audio.queue import TrackQueue

        self.queue = TrackQueue()
        for item in items:
            self.queue.add(item)

    def add(self, item: Track) -> None:
        assert self.queue.add(item) == len(self.queue)

    def add_next(self, item: Track) -> None:
        assert self.queue.add_next(item) == 1

    def pop_front(self) -> Track:
        item = self.queue.pop_next()
        if item is None:
            raise IndexError
        return item

    def remove(self, index: int) -> Track:
        return self._positional(self.queue.remove, index)

    def move(self, source: int, target: int) -> Track:
        return self._positional(self.queue.move, source, target)

    def shuffle(self, rng: random.Random) -> None:
        self.queue.shuffle(rng)

    def page(self, number: int, size: int = 10) -> tuple[Track, ...]:
        from audio.errors import QueueError

        try:
            return self.queue.page(number + 1, size).tracks
        except QueueError:
            return ()

    def _positional(self, method: Callable[..., Track], *indices: int) -> Track:
        from audio.errors import QueueError

        try:
            return method(*(i + 1 for i in indices))
        except QueueError as exc:
            raise IndexError from exc

    def __len__(self) -> int:
        return len(self.queue)

    def __iter__(self) -> Any:
        return iter(self.queue)


index = st.integers(min_value=-2, max_value=12)
operation = st.one_of(
    st.tuples(st.just("add")),
    st.tuples(st.just("add_next")),
    st.tuples(st.just("pop_front")),
    st.tuples(st.just("remove"), index),
    st.tuples(st.just("move"), index, index),
    st.tuples(st.just("shuffle"), st.integers(0, 2**32)),
    st.tuples(st.just("page"), st.integers(0, 6), st.integers(1, 4)),
)
programs = st.tuples(st.integers(0, 12), st.lists(operation, max_size=40))


def play(factory: Factory, start: int, program: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Run ``program`` from a queue of ``start`` tracks; one observation (result, contents) per step."""
    queue = factory([track(i) for i in range(start)])
    fresh = iter(range(1000, 2000))
    seen: list[tuple[Any, ...]] = []
    for name, *args in program:
        try:
            if name in ("add", "add_next"):
                result: Any = getattr(queue, name)(track(next(fresh)))
            elif name == "shuffle":
                result = queue.shuffle(random.Random(args[0]))
            else:
                result = getattr(queue, name)(*args)
        except IndexError:
            result = IndexError
        seen.append((name, result, len(queue), tuple(queue)))
    return seen


@pytest.mark.parametrize("name", FACTORIES)
@settings(max_examples=80, deadline=None)
@given(programs)
def test_candidate_follows_the_documented_semantics(name: str, program: tuple[int, list[tuple[Any, ...]]]) -> None:
    start, steps = program
    assert play(FACTORIES[name], start, steps) == play(ListModel, start, steps)


@pytest.mark.parametrize("name", FACTORIES)
@settings(max_examples=80, deadline=None)
@given(programs)
def test_candidate_matches_the_shipped_queue(name: str, program: tuple[int, list[tuple[Any, ...]]]) -> None:
    pytest.importorskip("audio.queue")
    start, steps = program
    assert play(FACTORIES[name], start, steps) == play(ShippedAsCandidate, start, steps)


def test_every_benchmarked_candidate_is_tested() -> None:
    assert {factory.name for factory in CANDIDATES} <= set(FACTORIES)  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", FACTORIES)
def test_failed_move_keeps_the_item(name: str) -> None:
    queue = FACTORIES[name]([track(i) for i in range(5)])
    before = list(queue)
    with pytest.raises(IndexError):
        queue.move(1, 5)
    with pytest.raises(IndexError):
        queue.move(-1, 0)
    assert list(queue) == before


@pytest.mark.parametrize("name", FACTORIES)
def test_long_queue_crosses_chunks_in_order(name: str) -> None:
    items = [track(i) for i in range(2_000)]
    queue = FACTORIES[name](items)
    assert queue.page(100, 10) == tuple(items[1000:1010])
    assert queue.remove(1500) is items[1500]
    assert queue.move(1200, 3) is items[1200]
    expected = items[:3] + [items[1200]] + items[3:1200] + items[1201:1500] + items[1501:]
    assert list(queue) == expected
    assert queue.page(199, 10) == tuple(expected[1990:])


@pytest.mark.parametrize("name", FACTORIES)
def test_one_seed_gives_one_order(name: str) -> None:
    items = [track(i) for i in range(50)]
    queue = FACTORIES[name](items)
    queue.shuffle(random.Random(7))
    expected = list(items)
    random.Random(7).shuffle(expected)
    assert list(queue) == expected


@pytest.mark.parametrize("op", [op.key for op in OPS])
def test_benchmark_calls_do_the_same_thing_on_candidates_and_shipped(op: str) -> None:
    """The harness binds each operation differently (0- vs 1-based); both bindings must agree."""
    queue_module = pytest.importorskip("audio.queue")
    items = [track(i) for i in range(37)]
    extra = track(999)
    shipped = TrackQueueSubject(queue_module.TrackQueue)
    candidate = CandidateSubject(DequeQueue)
    a, b = shipped.build(items), candidate.build(items)
    result_a = shipped.call(a, op, len(items), extra, random.Random(3))()
    result_b = candidate.call(b, op, len(items), extra, random.Random(3))()
    assert list(a) == list(b)
    if op.startswith("page"):
        assert result_a.tracks == result_b and result_b
    elif op in ("pop_front", "remove_middle", "move_middle_to_front"):
        assert result_a is result_b
