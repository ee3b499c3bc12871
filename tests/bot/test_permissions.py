from __future__ import annotations

from bot.permissions import SkipVote


def test_majority_of_listeners_passes() -> None:
    vote = SkipVote()
    track = object()
    assert not vote.cast(track, 1, {1, 2, 3, 4}).passed
    assert not vote.cast(track, 1, {1, 2, 3, 4}).passed  # voting twice counts once
    tally = vote.cast(track, 2, {1, 2, 3, 4})
    assert (tally.votes, tally.needed, tally.passed) == (2, 3, False)
    assert vote.cast(track, 3, {1, 2, 3, 4}).passed


def test_new_track_resets_and_leavers_stop_counting() -> None:
    vote = SkipVote()
    first, second = object(), object()
    vote.cast(first, 1, {1, 2, 3})
    assert vote.cast(second, 2, {1, 2, 3}).votes == 1
    assert vote.cast(second, 3, {3, 4, 5}).votes == 1  # 2 left the channel
    assert vote.cast(second, 9, {3, 4, 5}).votes == 1  # non-listeners cannot vote


def test_alone_listener_skips_at_once() -> None:
    assert SkipVote().cast(object(), 1, {1}).passed
