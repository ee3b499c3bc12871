"""TrackQueue: every operation, its errors, paging, and a state machine against a list model."""

from __future__ import annotations

import random

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from audio.errors import LimitReached, QueueError
from audio.queue import QueuePage, TrackQueue
from audio.track import Provider, Track


def track(n: int) -> Track:
    return Track(
        title=f"Track {n}",
        page_url=f"https://media.test/{n}",
        duration=float(n),
        uploader=None,
        thumbnail=None,
        provider=Provider.DIRECT,
    )


def filled(count: int, **kwargs: int) -> TrackQueue:
    queue = TrackQueue(**kwargs)  # type: ignore[arg-type]
    for n in range(1, count + 1):
        queue.add(track(n))
    return queue


def titles(queue: TrackQueue) -> list[str]:
    return [t.title for t in queue]


def test_add_returns_positions_and_keeps_fifo_order() -> None:
    queue = TrackQueue()
    assert not queue and len(queue) == 0 and queue.peek() is None
    assert [queue.add(track(n)) for n in (1, 2, 3)] == [1, 2, 3]
    assert queue and len(queue) == 3
    assert queue.peek() == track(1)
    assert [queue.pop_next() for _ in range(3)] == [track(1), track(2), track(3)]
    assert queue.pop_next() is None


def test_add_next_goes_to_the_front() -> None:
    queue = filled(2)
    assert queue.add_next(track(9)) == 1
    assert titles(queue) == ["Track 9", "Track 1", "Track 2"]


def test_extend_keeps_order_at_the_back_and_at_the_front() -> None:
    queue = filled(2)
    assert queue.extend([track(7), track(8)]) == 3
    assert queue.extend([track(5), track(6)], front=True) == 1
    assert titles(queue) == ["Track 5", "Track 6", "Track 1", "Track 2", "Track 7", "Track 8"]
    assert queue.extend([]) == 0


def test_remove_by_user_position() -> None:
    queue = filled(3)
    assert queue.remove(2) == track(2)
    assert titles(queue) == ["Track 1", "Track 3"]


def test_replace_and_discard_go_by_identity_not_equality() -> None:
    queue = filled(3)
    twin = track(2)  # equal to the queued Track 2, but another object
    changes: list[int] = []
    queue.on_change = lambda: changes.append(len(queue))
    assert not queue.replace(twin, track(9))
    assert not queue.discard(twin)
    assert changes == []
    queued = queue.get(2)
    measured = Track(title="Track 2", page_url=queued.page_url, duration=123.0, uploader=None,
                     thumbnail=None, provider=Provider.DIRECT)
    assert queue.replace(queued, measured)
    assert queue.get(2) is measured and titles(queue) == ["Track 1", "Track 2", "Track 3"]
    assert queue.discard(measured)
    assert titles(queue) == ["Track 1", "Track 3"]
    assert changes == [3, 2]


@pytest.mark.parametrize("position", [0, -1, 4, 99])
def test_remove_out_of_range_names_the_valid_range(position: int) -> None:
    queue = filled(3)
    with pytest.raises(QueueError) as info:
        queue.remove(position)
    assert info.value.user_message == f"There is no track #{position}. Pick a number from 1 to 3."
    assert len(queue) == 3


def test_position_errors_on_tiny_queues() -> None:
    with pytest.raises(QueueError, match="The queue is empty."):
        TrackQueue().remove(1)
    with pytest.raises(QueueError) as info:
        filled(1).remove(2)
    assert info.value.user_message == "There is no track #2. The queue has only track #1."


def test_move_puts_the_track_at_the_target_position() -> None:
    queue = filled(5)
    assert queue.move(1, 4) == track(1)
    assert titles(queue) == ["Track 2", "Track 3", "Track 4", "Track 1", "Track 5"]
    assert queue.move(5, 1) == track(5)
    assert titles(queue)[0] == "Track 5"
    assert queue.move(3, 3) == track(3)


@pytest.mark.parametrize(("source", "target"), [(0, 1), (1, 0), (6, 1), (1, 6)])
def test_move_out_of_range(source: int, target: int) -> None:
    queue = filled(5)
    with pytest.raises(QueueError, match="Pick a number from 1 to 5"):
        queue.move(source, target)
    assert titles(queue) == [f"Track {n}" for n in range(1, 6)]


def test_shuffle_is_a_permutation_and_uses_the_given_rng() -> None:
    queue = filled(20)
    queue.shuffle(random.Random(4))
    order = titles(queue)
    assert sorted(order) == sorted(f"Track {n}" for n in range(1, 21))
    again = filled(20)
    again.shuffle(random.Random(4))
    assert titles(again) == order
    assert order != [f"Track {n}" for n in range(1, 21)]


def test_clear_returns_how_many() -> None:
    queue = filled(4)
    assert queue.clear() == 4
    assert len(queue) == 0
    assert queue.clear() == 0


def test_iteration_is_a_snapshot() -> None:
    queue = filled(3)
    seen = []
    for t in queue:
        seen.append(t)
        queue.pop_next()  # the player pops while a listing renders
    assert seen == [track(1), track(2), track(3)]


def test_pages() -> None:
    queue = filled(23)
    first = queue.page(1)
    assert first == QueuePage(1, 3, 1, tuple(track(n) for n in range(1, 11)), 23)
    last = queue.page(3)
    assert (last.start, last.pages, [t.title for t in last.tracks]) == (
        21,
        3,
        ["Track 21", "Track 22", "Track 23"],
    )
    assert queue.page(2, size=20).tracks == (track(21), track(22), track(23))


def test_empty_queue_has_one_empty_page() -> None:
    page = TrackQueue().page(1)
    assert page == QueuePage(number=1, pages=1, start=1, tracks=(), total=0)


@pytest.mark.parametrize(
    ("number", "message"), [(0, "Pick a page from 1 to 3."), (4, "Pick a page from 1 to 3.")]
)
def test_bad_page_numbers(number: int, message: str) -> None:
    with pytest.raises(QueueError) as info:
        filled(23).page(number)
    assert info.value.user_message == f"There is no page {number}. {message}"
    with pytest.raises(QueueError, match="only one page"):
        filled(2).page(2)
    with pytest.raises(ValueError):
        filled(2).page(1, size=0)


def test_max_length() -> None:
    queue = filled(3, max_length=3)
    with pytest.raises(LimitReached) as info:
        queue.add(track(4))
    assert info.value.user_message == "The queue is full (3 tracks)."
    with pytest.raises(LimitReached):
        queue.add_next(track(4))
    queue.pop_next()
    with pytest.raises(LimitReached):
        queue.extend([track(4), track(5)])  # all or none
    assert len(queue) == 2
    assert queue.add(track(4)) == 3
    with pytest.raises(ValueError):
        TrackQueue(max_length=0)


def test_default_cap_message() -> None:
    queue = filled(500, max_length=500)
    with pytest.raises(LimitReached, match=r"^The queue is full \(500 tracks\)\.$"):
        queue.add(track(501))


def test_on_change_fires_on_every_mutation_only() -> None:
    calls: list[int] = []
    queue = TrackQueue(on_change=lambda: calls.append(len(queue)))
    queue.add(track(1))
    queue.add_next(track(2))
    queue.extend([track(3)])
    queue.move(1, 3)
    queue.shuffle(random.Random(1))
    queue.remove(1)
    queue.pop_next()
    queue.peek()
    queue.page(1)
    list(queue)
    queue.clear()
    queue.clear()  # nothing removed: no change
    assert calls == [1, 2, 3, 3, 3, 2, 1, 0]


def test_a_broken_on_change_does_not_break_the_queue() -> None:
    def boom() -> None:
        raise RuntimeError("listener bug")

    queue = TrackQueue(on_change=boom)
    assert queue.add(track(1)) == 1
    assert len(queue) == 1


positions = st.integers(min_value=-2, max_value=12)


class QueueMachine(RuleBasedStateMachine):
    """Whatever the sequence of operations, the queue behaves like a bounded Python list."""

    def __init__(self) -> None:
        super().__init__()
        self.cap = 8
        self.queue = TrackQueue(max_length=self.cap)
        self.model: list[Track] = []
        self.serial = 0

    def new_track(self) -> Track:
        self.serial += 1
        return track(self.serial)

    @rule()
    def add(self) -> None:
        t = self.new_track()
        if len(self.model) >= self.cap:
            with pytest.raises(LimitReached):
                self.queue.add(t)
            return
        self.model.append(t)
        assert self.queue.add(t) == len(self.model)

    @rule()
    def add_next(self) -> None:
        t = self.new_track()
        if len(self.model) >= self.cap:
            with pytest.raises(LimitReached):
                self.queue.add_next(t)
            return
        self.model.insert(0, t)
        assert self.queue.add_next(t) == 1

    @rule(count=st.integers(min_value=0, max_value=4), front=st.booleans())
    def extend(self, count: int, front: bool) -> None:
        batch = [self.new_track() for _ in range(count)]
        if len(self.model) + count > self.cap:
            with pytest.raises(LimitReached):
                self.queue.extend(batch, front=front)
            return
        expected_first = 0 if not batch else (1 if front else len(self.model) + 1)
        self.model = batch + self.model if front else self.model + batch
        assert self.queue.extend(batch, front=front) == expected_first

    @rule()
    def pop_next(self) -> None:
        expected = self.model.pop(0) if self.model else None
        assert self.queue.pop_next() == expected

    @rule(position=positions)
    def remove(self, position: int) -> None:
        if 1 <= position <= len(self.model):
            assert self.queue.remove(position) == self.model.pop(position - 1)
        else:
            with pytest.raises(QueueError):
                self.queue.remove(position)

    @rule(origin=positions, target_position=positions)
    def move(self, origin: int, target_position: int) -> None:
        source, target = origin, target_position
        size = len(self.model)
        if 1 <= source <= size and 1 <= target <= size:
            moved = self.model.pop(source - 1)
            self.model.insert(target - 1, moved)
            assert self.queue.move(source, target) == moved
            assert self.model[target - 1] == moved
        else:
            with pytest.raises(QueueError):
                self.queue.move(source, target)

    @rule(seed=st.integers(min_value=0, max_value=2**16))
    def shuffle(self, seed: int) -> None:
        self.queue.shuffle(random.Random(seed))
        random.Random(seed).shuffle(self.model)

    @precondition(lambda self: self.serial % 5 == 0)
    @rule()
    def clear(self) -> None:
        assert self.queue.clear() == len(self.model)
        self.model.clear()

    @rule(number=st.integers(min_value=-1, max_value=6), size=st.integers(min_value=1, max_value=5))
    def page(self, number: int, size: int) -> None:
        pages = max(1, -(-len(self.model) // size))
        if not 1 <= number <= pages:
            with pytest.raises(QueueError):
                self.queue.page(number, size)
            return
        page = self.queue.page(number, size)
        first = (number - 1) * size
        assert page == QueuePage(
            number, pages, first + 1, tuple(self.model[first : first + size]), len(self.model)
        )

    @invariant()
    def same_as_model(self) -> None:
        assert list(self.queue) == self.model
        assert len(self.queue) == len(self.model)
        assert bool(self.queue) == bool(self.model)
        assert self.queue.peek() == (self.model[0] if self.model else None)


QueueMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
test_queue_behaves_like_a_list = QueueMachine.TestCase


def test_get_reads_without_removing() -> None:
    queue = filled(3)
    assert queue.get(2) == track(2)
    assert len(queue) == 3
    with pytest.raises(QueueError, match=r"There is no track #4\. Pick a number from 1 to 3\."):
        queue.get(4)
