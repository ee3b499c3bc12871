"""The queue's memory in the store, on both backends: the bounded history, the undo step."""

from __future__ import annotations

from bot.store import UndoStep
from bot.store.sql_store import SqlStore
from tests.store.conftest import StoreOpener
from tests.store.support import make_track, raw_sql

GUILD_A = 100_000_000_000_000_001
GUILD_B = 100_000_000_000_000_002


async def test_history_is_newest_first_bounded_per_guild(store: SqlStore) -> None:
    for n in range(1, 8):
        await store.add_history(GUILD_A, make_track(n), keep=5, played_at=1000.0 + n)
    await store.add_history(GUILD_B, make_track(99), keep=5)
    newest = await store.history(GUILD_A, limit=10)
    assert [e.track for e in newest] == [make_track(n) for n in (7, 6, 5, 4, 3)]
    assert [e.played_at for e in newest] == [1007.0, 1006.0, 1005.0, 1004.0, 1003.0]
    assert [e.track for e in await store.history(GUILD_A, limit=2)] == [make_track(7), make_track(6)]
    assert [e.track for e in await store.history(GUILD_B, limit=10)] == [make_track(99)]
    count = await raw_sql(store)("SELECT COUNT(*) FROM play_history WHERE guild_id = ?", GUILD_A)
    assert count[0][0] == 5  # the rows are gone, not just hidden


async def test_the_undo_step_round_trips_and_is_replaced_and_dropped(open_db: StoreOpener) -> None:
    store = await open_db()
    assert await store.load_undo(GUILD_A) is None
    first = UndoStep("clear", (make_track(1), make_track(2)), (), member_id=5)
    await store.save_undo(GUILD_A, first)
    second = UndoStep("move", (make_track(1), make_track(2), make_track(3)), (make_track(3), make_track(1), make_track(2)), 6)
    await store.save_undo(GUILD_B, first)
    await store.save_undo(GUILD_A, second)
    reopened = await open_db()
    assert await reopened.load_undo(GUILD_A) == second
    assert await reopened.load_undo(GUILD_B) == first
    await reopened.drop_undo(GUILD_A)
    assert await reopened.load_undo(GUILD_A) is None
    assert await reopened.load_undo(GUILD_B) == first


async def test_forgetting_a_guild_drops_its_history_and_undo_only(store: SqlStore) -> None:
    for guild in (GUILD_A, GUILD_B):
        await store.add_history(guild, make_track(1), keep=10)
        await store.save_undo(guild, UndoStep("shuffle", (make_track(1), make_track(2)), (make_track(2), make_track(1))))
    await store.forget_queue_memory(GUILD_A)
    assert await store.history(GUILD_A, limit=10) == []
    assert await store.load_undo(GUILD_A) is None
    assert len(await store.history(GUILD_B, limit=10)) == 1
    assert await store.load_undo(GUILD_B) is not None
