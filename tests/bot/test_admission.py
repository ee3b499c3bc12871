from __future__ import annotations

import asyncio

import pytest

from audio.errors import LimitReached
from audio.track import Provider, Track
from bot.admission import ExtractionSlots, Limits, admit


def track(n: int, *, duration: float | None = 60.0, requester: int | None = 1) -> Track:
    return Track(f"t{n}", f"https://example.com/{n}.mp3", duration, None, None, Provider.DIRECT, requester)


def test_admits_within_all_limits() -> None:
    tracks = [track(1), track(2)]
    assert admit(tracks, queued=[], requester_id=1, limits=Limits()) == tracks


def test_full_queue_is_refused_naming_the_limit() -> None:
    queued = [track(i, requester=i) for i in range(3)]
    with pytest.raises(LimitReached, match=r"queue is full \(3 tracks\)"):
        admit([track(9)], queued=queued, requester_id=99, limits=Limits(max_queue_length=3))


def test_playlist_is_cut_to_the_room_left() -> None:
    queued = [track(i, requester=i) for i in range(2)]
    got = admit([track(i) for i in range(10)], queued=queued, requester_id=99, limits=Limits(max_queue_length=5))
    assert len(got) == 3


def test_per_user_cap() -> None:
    queued = [track(i, requester=7) for i in range(4)]
    with pytest.raises(LimitReached, match="You already have 4 tracks queued"):
        admit([track(9)], queued=queued, requester_id=7, limits=Limits(max_user_tracks=4))
    assert admit([track(9)], queued=queued, requester_id=8, limits=Limits(max_user_tracks=4))


def test_too_long_single_track_is_refused_and_dropped_from_playlists() -> None:
    limits = Limits(max_track_duration=600)
    with pytest.raises(LimitReached, match="longer than the 10:00 limit"):
        admit([track(1, duration=601)], queued=[], requester_id=1, limits=limits)
    got = admit([track(1, duration=601), track(2, duration=30), track(3, duration=None)], queued=[],
                requester_id=1, limits=limits)
    assert [t.title for t in got] == ["t2", "t3"]


async def test_extraction_slots_cap_one_guild_only() -> None:
    slots = ExtractionSlots(1)
    async with slots.take(1):
        with pytest.raises(LimitReached, match="already has 1 lookups running"):
            async with slots.take(1):
                pass
        async with slots.take(2):  # another guild is unaffected
            pass
    async with slots.take(1):  # freed
        pass
    await asyncio.sleep(0)
