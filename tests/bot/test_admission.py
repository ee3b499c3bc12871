from __future__ import annotations

import asyncio

import pytest

from audio.errors import LimitReached
from audio.track import Provider, Track
from bot.admission import MEMBER_WAITING, MSG_MEMBER_BUSY, PER_MEMBER_LOOKUPS, ExtractionSlots, Limits, admit


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
    async with slots.take(1, 10):
        with pytest.raises(LimitReached, match="already has 1 lookups running") as refused:
            async with slots.take(1, 11):
                pytest.fail("a second lookup of the guild was let in")
        assert refused.value.user_message.endswith("(the limit is 1); try again shortly.")
        async with slots.take(2, 11):  # another guild is unaffected
            pass
    async with slots.take(1, 11):  # freed
        pass


async def test_guild_cap_counts_every_member_of_the_guild() -> None:
    slots = ExtractionSlots(2)
    async with slots.take(1, 10), slots.take(1, 11):
        with pytest.raises(LimitReached, match="already has 2 lookups running"):
            async with slots.take(1, 12):
                pytest.fail("a third lookup of the guild was let in")
        async with slots.take(2, 12):
            pass


async def _entered(slots: ExtractionSlots, guild_id: int, member_id: int, log: list[str], name: str,
                   leave: asyncio.Event) -> None:
    async with slots.take(guild_id, member_id):
        log.append(name)
        await leave.wait()


async def _settle() -> None:
    """Let every ready task run until it blocks (no timing: the loop's own queue drains)."""
    for _ in range(20):
        await asyncio.sleep(0)


async def test_a_members_further_lookups_wait_their_turn_in_order() -> None:
    assert PER_MEMBER_LOOKUPS == 1 and MEMBER_WAITING == 2
    slots = ExtractionSlots(5)
    log: list[str] = []
    gates = [asyncio.Event() for _ in range(3)]
    tasks = [asyncio.create_task(_entered(slots, 1, 10, log, f"play {i}", gates[i])) for i in range(3)]
    await _settle()
    assert log == ["play 0"]  # the others wait, holding no worker
    gates[0].set()
    await _settle()
    assert log == ["play 0", "play 1"]
    gates[1].set()
    gates[2].set()
    await asyncio.gather(*tasks)
    assert log == ["play 0", "play 1", "play 2"]


async def test_past_the_waiting_limit_a_member_is_refused_and_holds_nothing() -> None:
    slots = ExtractionSlots(2)
    log: list[str] = []
    leave = asyncio.Event()
    tasks = [asyncio.create_task(_entered(slots, 1, 10, log, f"play {i}", leave)) for i in range(3)]
    await _settle()
    with pytest.raises(LimitReached) as refused:
        async with slots.take(1, 10):
            pytest.fail("a fourth lookup of the member was let in")
    assert refused.value.user_message == MSG_MEMBER_BUSY
    async with slots.take(1, 11):  # the waiting ones took no guild slot: the second is free
        pass
    leave.set()
    await asyncio.gather(*tasks)
    assert log == ["play 0", "play 1", "play 2"]


async def test_the_member_turn_holds_in_every_server_and_other_members_go_on() -> None:
    slots = ExtractionSlots(5)
    log: list[str] = []
    leave = asyncio.Event()
    first = asyncio.create_task(_entered(slots, 1, 10, log, "guild 1", leave))
    await _settle()
    elsewhere = asyncio.create_task(_entered(slots, 2, 10, log, "guild 2", asyncio.Event()))
    await _settle()
    assert log == ["guild 1"]
    async with slots.take(1, 11):
        pass
    elsewhere.cancel()
    leave.set()
    await first
    with pytest.raises(asyncio.CancelledError):
        await elsewhere
    async with slots.take(2, 10):  # the cancelled wait left nothing behind
        pass


async def test_a_turn_granted_to_a_waiter_that_gave_up_passes_on() -> None:
    slots = ExtractionSlots(5)
    log: list[str] = []
    leave = [asyncio.Event() for _ in range(3)]
    tasks = [asyncio.create_task(_entered(slots, 1, 10, log, f"play {i}", leave[i])) for i in range(3)]
    await _settle()
    leave[0].set()
    tasks[1].cancel()  # in the same loop turn as its grant
    await _settle()
    assert log == ["play 0", "play 2"]
    leave[2].set()
    await tasks[2]
    async with slots.take(1, 10):  # nothing leaked
        pass


async def test_per_member_is_configurable_after_per_guild() -> None:
    slots = ExtractionSlots(3, per_member=2, member_waiting=0)
    async with slots.take(1, 10), slots.take(1, 10):
        with pytest.raises(LimitReached, match="already have lookups running"):
            async with slots.take(1, 10):
                pass


async def test_both_slots_are_released_when_the_lookup_raises() -> None:
    slots = ExtractionSlots(1)
    for _ in range(2):
        with pytest.raises(RuntimeError, match="lookup failed"):
            async with slots.take(1, 10):
                raise RuntimeError("lookup failed")
    async with slots.take(1, 10):  # neither the guild's slot nor the member's leaked
        pass


async def test_both_slots_are_released_when_the_lookup_is_cancelled() -> None:
    slots = ExtractionSlots(1)
    entered = asyncio.Event()

    async def lookup() -> None:
        async with slots.take(1, 10):
            entered.set()
            await asyncio.Event().wait()  # never set: only cancellation ends it

    task = asyncio.create_task(lookup())
    await asyncio.wait_for(entered.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with slots.take(1, 10):
        pass
