"""Queue modes: where a track joins (FIFO back, fair turns by track count or by listening time)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from audio.errors import LimitReached
from audio.queue import TrackQueue
from audio.queue_order import QueueMode, insertion_index, keys, ordered, turn_order
from audio.track import Provider, Track


def track(member: int, n: int, duration: float | None = 60.0) -> Track:
    return Track(f"m{member}-{n}", f"https://media.test/{member}/{n}", duration, None, None, Provider.DIRECT, member)


def who(tracks: list[Track] | TrackQueue) -> list[str]:
    return [t.title for t in tracks]


def test_fifo_appends_in_arrival_order() -> None:
    queue = TrackQueue()
    for t in (track(1, 1), track(1, 2), track(2, 1)):
        queue.add(t)
    assert who(queue) == ["m1-1", "m1-2", "m2-1"]


def test_fair_puts_a_late_member_ahead_of_a_burst() -> None:
    queue = TrackQueue(mode=QueueMode.FAIR)
    assert queue.extend([track(1, n) for n in range(1, 51)]) == 1
    assert queue.add(track(2, 1)) == 2  # behind alice's first, ahead of her other 49
    assert queue.add(track(3, 1)) == 3
    assert queue.add(track(2, 2)) == 5  # bob's second turn: after alice's second
    assert who(queue)[:6] == ["m1-1", "m2-1", "m3-1", "m1-2", "m2-2", "m1-3"]


def test_fair_counts_the_track_that_played_last_as_its_members_turn() -> None:
    queue = TrackQueue(mode=QueueMode.FAIR)
    queue.extend([track(1, 1), track(1, 2)])
    assert queue.pop_next() is not None  # alice's first plays now
    queue.add(track(2, 1))
    assert who(queue) == ["m2-1", "m1-2"]


def test_fair_batch_reports_where_its_first_track_went() -> None:
    queue = TrackQueue(mode=QueueMode.FAIR)
    queue.extend([track(1, n) for n in range(1, 4)])
    first = queue.extend([track(2, n) for n in range(1, 4)])
    assert first == 2
    assert who(queue) == ["m1-1", "m2-1", "m1-2", "m2-2", "m1-3", "m2-3"]


def test_fair_time_gives_turns_by_listening_time() -> None:
    queue = TrackQueue(mode=QueueMode.FAIR_TIME)
    queue.add(track(1, 1, 600.0))  # one ten-minute track
    for n in range(1, 5):
        queue.add(track(2, n, 120.0))  # four two-minute tracks
    queue.add(track(1, 2, 600.0))
    # Bob's first four tracks (480 s) still come before alice's second (she has had 600 s ahead of it).
    assert who(queue) == ["m1-1", "m2-1", "m2-2", "m2-3", "m2-4", "m1-2"]


def test_unknown_lengths_cost_a_fixed_amount_in_fair_time() -> None:
    queue = TrackQueue(mode=QueueMode.FAIR_TIME)
    queue.add(track(1, 1, None))
    queue.add(track(1, 2, None))
    queue.add(track(2, 1, 60.0))
    assert who(queue) == ["m1-1", "m2-1", "m1-2"]


def test_front_ignores_the_mode() -> None:
    queue = TrackQueue(mode=QueueMode.FAIR)
    queue.extend([track(1, 1), track(2, 1)])
    assert queue.extend([track(1, 2), track(1, 3)], front=True) == 1
    assert who(queue) == ["m1-2", "m1-3", "m1-1", "m2-1"]


def test_after_a_manual_move_new_tracks_go_after_the_last_smaller_turn() -> None:
    queue = TrackQueue(mode=QueueMode.FAIR)
    queue.extend([track(1, 1), track(1, 2), track(2, 1)])  # m1-1, m2-1, m1-2
    queue.move(3, 1)  # m1-2 first: the order is no longer sorted by turn
    queue.add(track(3, 1))
    assert who(queue) == ["m1-2", "m1-1", "m2-1", "m3-1"]


def test_ordered_and_turn_order() -> None:
    arrived = [track(1, 1), track(1, 2), track(1, 3), track(2, 1), track(3, 1)]
    fair = ordered(arrived, QueueMode.FAIR)
    assert who(fair) == ["m1-1", "m2-1", "m3-1", "m1-2", "m1-3"]
    assert ordered(arrived, QueueMode.FIFO) == arrived
    assert turn_order(fair) == [1, 2, 3]
    assert turn_order(arrived, limit=2) == [1, 2]


arrivals = st.lists(st.tuples(st.integers(1, 4), st.floats(1.0, 900.0)), max_size=40)


@given(arrivals, st.sampled_from([QueueMode.FAIR, QueueMode.FAIR_TIME]))
def test_fair_inserts_keep_turns_sorted_and_members_in_their_own_order(
    arrived: list[tuple[int, float]], mode: QueueMode
) -> None:
    tracks = [track(member, n, length) for n, (member, length) in enumerate(arrived)]
    queue = TrackQueue(mode=mode)
    for t in tracks:
        position = queue.add(t)
        assert queue.get(position) is t  # the position reported is where it is
    held = list(queue)
    assert sorted(held, key=lambda t: t.title) == sorted(tracks, key=lambda t: t.title)
    assert keys(held, mode) == sorted(keys(held, mode))
    for member in range(1, 5):  # a member's own tracks keep the order they were asked for
        assert [t for t in held if t.requester_id == member] == [t for t in tracks if t.requester_id == member]


@given(st.lists(st.integers(1, 4), max_size=30), st.integers(5, 9))
def test_fair_a_newcomer_waits_at_most_one_track_per_member(bursts: list[int], newcomer: int) -> None:
    queued = [track(member, n) for n, member in enumerate(bursts)]
    queue = TrackQueue(mode=QueueMode.FAIR)
    queue.extend(queued)
    members = len(set(bursts))
    assert queue.add(track(newcomer, 0)) <= members + 1
    assert insertion_index([], track(newcomer, 0), QueueMode.FAIR) == 0


def test_remove_where_drop_first_and_reset() -> None:
    queue = TrackQueue(max_length=5)
    queue.extend([track(1, 1), track(2, 1), track(1, 2), track(2, 2)])
    changes: list[int] = []
    queue.on_change = lambda: changes.append(len(queue))
    assert who(queue.remove_where(lambda t: t.requester_id == 2)) == ["m2-1", "m2-2"]
    assert queue.remove_where(lambda t: t.requester_id == 9) == []
    assert who(queue.drop_first(1)) == ["m1-1"]
    assert queue.drop_first(0) == []
    queue.reset([track(3, n) for n in range(5)])
    assert len(queue) == 5 and changes == [2, 1, 5]
    with pytest.raises(LimitReached):
        queue.reset([track(3, n) for n in range(6)])
    assert len(queue) == 5 and changes == [2, 1, 5]
