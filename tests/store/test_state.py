"""Player state: write-through snapshots, cheap checkpoints, restore at start-up."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging

import pytest

from bot.store import GuildState
from bot.store.sql_store import SqlStore
from tests.store.conftest import StoreOpener
from tests.store.support import make_track, raw_sql

GUILD = 555_555_555_555_555_555


def full_state(queue_length: int = 3) -> GuildState:
    return GuildState(
        guild_id=GUILD,
        voice_channel_id=987_654_321_987_654_321,
        text_channel_id=123_456_789_123_456_789,
        loop_mode="queue",
        volume=150,
        current=make_track(0, requester_id=None),
        position=12.5,
        paused=False,
        queue=tuple(make_track(n) for n in range(1, queue_length + 1)),
    )


async def test_state_round_trips_across_a_restart(open_db: StoreOpener) -> None:
    store = await open_db()
    await store.save_state(full_state())
    await store.checkpoint(GUILD, 42.25, paused=True)
    await store.close()

    reopened = await open_db()
    expected = dataclasses.replace(full_state(), position=42.25, paused=True)
    assert await reopened.load_states() == [expected]
    assert await reopened.load_state(GUILD) == expected


async def test_snapshot_replaces_queue_and_settings(store: SqlStore) -> None:
    await store.save_state(full_state(queue_length=10))
    smaller = GuildState(GUILD, voice_channel_id=5, loop_mode="off", volume=0, queue=(make_track(7),))
    await store.save_state(smaller)
    assert await store.load_state(GUILD) == smaller


async def test_checkpoint_without_state_is_a_no_op(store: SqlStore) -> None:
    await store.checkpoint(GUILD, 3.0, paused=False)
    assert await store.load_states() == []
    with pytest.raises(ValueError):
        await store.checkpoint(GUILD, float("nan"), paused=False)


async def test_snapshots_for_one_guild_land_in_call_order(store: SqlStore) -> None:
    """Fired at once from many tasks (two members acting together): the last snapshot taken wins."""
    states = [full_state(queue_length=n) for n in range(1, 41)]
    await asyncio.gather(*(store.save_state(s) for s in states))
    assert await store.load_state(GUILD) == states[-1]


async def test_damaged_state_rows_are_repaired_or_skipped(
    store: SqlStore, caplog: pytest.LogCaptureFixture
) -> None:
    await store.save_state(full_state(queue_length=2))
    run = raw_sql(store)
    await run("UPDATE guild_state SET loop_mode = 'sideways', volume = 999 WHERE guild_id = ?", GUILD)
    await run("UPDATE queue_entries SET provider = 'bogus' WHERE guild_id = ? AND slot = 1", GUILD)
    await run(
        "UPDATE queue_entries SET page_url = 'javascript:alert(1)' WHERE guild_id = ? AND slot = 0", GUILD
    )
    with caplog.at_level(logging.WARNING):
        state = await store.load_state(GUILD)
    assert state is not None
    assert (state.loop_mode, state.volume, state.current, state.position) == ("off", 200, None, 0.0)
    assert state.queue == (make_track(2),)
    assert sum("damaged" in r.getMessage() for r in caplog.records) == 3


async def test_state_survives_independently_of_playlists(store: SqlStore) -> None:
    await store.save_state(full_state())
    await store.save_playlist(GUILD, "p", [make_track(9)], owner_id=1)
    await store.forget_guild(GUILD)
    assert await store.load_state(GUILD) is None
    assert (await store.get_playlist(GUILD, "p")).track_count == 1


async def test_cancelled_writes_leave_the_store_usable(store: SqlStore) -> None:
    """Cancellation can land before, inside or after a transaction; none may wedge the connection."""
    for yields in range(12):
        task = asyncio.create_task(store.save_state(full_state(queue_length=yields)))
        for _ in range(yields):  # let the write get a little further each round
            await asyncio.sleep(0)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    await store.save_state(full_state(queue_length=2))
    await store.create_playlist(GUILD, "still works", owner_id=1)
    assert await store.load_state(GUILD) == full_state(queue_length=2)
