"""StateWriter: coalescing, ordered write-behind that survives a database outage."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import aiosqlite
import pytest

from bot.store import GuildState
from bot.store.sqlite import SqliteStore
from bot.store.state_writer import StateWriter
from tests.store.support import make_track

GUILD = 9001


class CountingStore(SqliteStore):
    """The real SQLite store, counting the writes that reach it."""

    writes = 0

    async def save_state(self, state: GuildState) -> None:
        await super().save_state(state)
        self.writes += 1


def state(n: int) -> GuildState:
    return GuildState(
        GUILD, voice_channel_id=5, current=make_track(n), queue=tuple(make_track(k) for k in range(n))
    )


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[CountingStore]:
    """Overrides the two-backend fixture: the writer's logic does not depend on the backend."""
    store = await CountingStore.open(tmp_path / "brent.db", busy_timeout=0.1)
    yield store
    await store.close()


async def test_bursts_coalesce_into_few_writes_and_the_last_wins(store: CountingStore) -> None:
    writer = StateWriter(store)
    for n in range(100):
        writer.save(state(n))
    writer.checkpoint(GUILD, 33.5, paused=True)
    await writer.flush(GUILD)
    assert await store.load_state(GUILD) == dataclasses.replace(state(99), position=33.5, paused=True)
    assert store.writes <= 2  # the first snapshot, then only the newest one
    await writer.close()


async def test_checkpoints_and_forget_apply_in_order(store: CountingStore) -> None:
    writer = StateWriter(store)
    writer.save(state(3))
    await writer.flush()
    writer.checkpoint(GUILD, 12.0, paused=False)
    await writer.flush()
    assert (await store.load_state(GUILD)) == dataclasses.replace(state(3), position=12.0)

    writer.save(state(4))
    writer.forget(GUILD)
    writer.checkpoint(GUILD, 1.0, paused=False)  # nothing left to checkpoint
    await writer.close()
    assert await store.load_state(GUILD) is None
    with pytest.raises(RuntimeError):
        writer.save(state(5))


async def test_outage_is_reported_retried_and_recovered(store: CountingStore, tmp_path: Path) -> None:
    health: asyncio.Queue[bool] = asyncio.Queue()
    writer = StateWriter(store, retry_initial=0.05, retry_max=0.2, on_health_change=health.put_nowait)
    writer.save(state(1))
    await writer.flush()

    async with aiosqlite.connect(tmp_path / "brent.db", isolation_level=None) as locker:
        await locker.execute("BEGIN EXCLUSIVE")
        writer.save(state(2))
        assert await asyncio.wait_for(health.get(), 10) is True
        assert writer.failing
        writer.checkpoint(GUILD, 7.0, paused=True)  # arrives during the outage, folded into state 2
        await locker.execute("ROLLBACK")

    assert await asyncio.wait_for(health.get(), 10) is False
    await asyncio.wait_for(writer.flush(), 10)
    assert await store.load_state(GUILD) == dataclasses.replace(state(2), position=7.0, paused=True)
    await writer.close()


async def test_close_during_an_outage_does_not_hang(store: CountingStore, tmp_path: Path) -> None:
    writer = StateWriter(store, retry_initial=60, retry_max=60)
    async with aiosqlite.connect(tmp_path / "brent.db", isolation_level=None) as locker:
        await locker.execute("BEGIN EXCLUSIVE")
        writer.save(state(1))
        await asyncio.wait_for(writer.close(), 10)  # one more attempt, then gives up
        await locker.execute("ROLLBACK")
    assert writer.failing
    assert await store.load_state(GUILD) is None


class BuggyStore(SqliteStore):
    """The real store, except that one particular snapshot hits a programming error."""

    async def save_state(self, state: GuildState) -> None:
        if state.volume == 13:
            raise RuntimeError("bug")
        await super().save_state(state)


async def test_a_bug_drops_one_write_but_not_the_writer(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = await BuggyStore.open(tmp_path / "brent.db")
    writer = StateWriter(store)
    writer.save(dataclasses.replace(state(1), volume=13))
    await writer.flush()
    assert "Dropped a state write" in caplog.text
    writer.save(state(2))
    await writer.close()
    assert await store.load_state(GUILD) == state(2)
    await store.close()
