"""A corrupt, locked or unreachable database gives a clear StoreError, never a crash or a leak."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiosqlite
import pytest

from audio.errors import StoreError
from bot.store import UNAVAILABLE_MESSAGE, DatabaseUnavailable, GuildState, open_store
from bot.store.sqlite import SqliteStore
from tests.store.support import make_track

GUILD = 31337


async def test_garbage_file_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "brent.db"
    garbage = b"this is not a database, just garbage " * 200
    path.write_bytes(garbage)
    with pytest.raises(DatabaseUnavailable) as caught:
        await open_store(None, tmp_path)
    assert caught.value.user_message == UNAVAILABLE_MESSAGE
    assert path.read_bytes() == garbage  # not "repaired" into an empty database


async def test_damaged_pages_turn_into_store_errors(tmp_path: Path) -> None:
    path = tmp_path / "brent.db"
    store = await SqliteStore.open(path)
    await store.save_playlist(GUILD, "doomed", [make_track(n) for n in range(200)], owner_id=1)
    await store.close()  # the last connection checkpoints the WAL into the file
    page_size = 4096
    with path.open("r+b") as file:  # keep page 1 (header and schema), wreck everything after it
        file.seek(page_size)
        file.write(b"\xde\xad\xbe\xef" * ((path.stat().st_size - page_size) // 4))

    with pytest.raises(StoreError) as caught:
        reopened = await SqliteStore.open(path)
        try:
            await reopened.playlist_tracks(GUILD, "doomed")
        finally:
            await reopened.close()
    assert caught.value.user_message == UNAVAILABLE_MESSAGE


async def test_locked_database_fails_writes_quickly_and_keeps_reads(tmp_path: Path) -> None:
    path = tmp_path / "brent.db"
    store = await SqliteStore.open(path, busy_timeout=0.2)
    await store.save_state(GuildState(GUILD, queue=(make_track(1),)))
    await store.create_playlist(GUILD, "p", owner_id=1)

    async with aiosqlite.connect(path, isolation_level=None) as locker:
        await locker.execute("BEGIN EXCLUSIVE")
        for write in (
            store.save_state(GuildState(GUILD, queue=(make_track(2),))),
            store.checkpoint(GUILD, 1.0, paused=True),
            store.add_tracks(GUILD, "p", [make_track(3)], user_id=1, can_manage=False),
            store.create_playlist(GUILD, "q", owner_id=1),
        ):
            with pytest.raises(DatabaseUnavailable) as caught:
                await write
            assert caught.value.user_message == UNAVAILABLE_MESSAGE
            assert "locked" in str(caught.value)  # the detail, for the log only
        # WAL: readers are not blocked by the writer, so restoring and listing still work.
        assert (await store.load_state(GUILD)) == GuildState(GUILD, queue=(make_track(1),))
        assert [p.name for p in await store.list_playlists(GUILD)] == ["p"]
        await locker.execute("ROLLBACK")

    await store.add_tracks(GUILD, "p", [make_track(3)], user_id=1, can_manage=False)  # recovered
    assert (await store.get_playlist(GUILD, "p")).track_count == 1
    await store.close()


async def test_locked_new_database_cannot_be_initialised(tmp_path: Path) -> None:
    path = tmp_path / "brent.db"
    async with aiosqlite.connect(path, isolation_level=None) as locker:
        await locker.execute("PRAGMA journal_mode = WAL")
        await locker.execute("BEGIN EXCLUSIVE")
        await locker.execute("CREATE TABLE other_program (x INTEGER)")
        with pytest.raises(DatabaseUnavailable):
            await SqliteStore.open(path, busy_timeout=0.2)
        await locker.execute("ROLLBACK")


async def test_unreachable_postgres_is_a_clear_error_without_the_password(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Port 1 on loopback: refused at once, and no traffic leaves the machine.
    with pytest.raises(DatabaseUnavailable) as caught:
        await open_store("postgresql://brent:hunter2secret@127.0.0.1:1/brent", Path("unused"))
    assert caught.value.user_message == UNAVAILABLE_MESSAGE
    assert "hunter2secret" not in str(caught.value)
    assert "hunter2secret" not in caplog.text
    assert "127.0.0.1:1" in str(caught.value)


async def test_closed_store_can_be_closed_again(tmp_path: Path) -> None:
    store = await SqliteStore.open(tmp_path / "brent.db")
    await store.close()
    await store.close()


async def test_reads_do_not_queue_behind_a_write_waiting_for_the_lock(tmp_path: Path) -> None:
    path = tmp_path / "brent.db"
    store = await SqliteStore.open(path, busy_timeout=30.0)
    await store.save_state(GuildState(GUILD, queue=(make_track(1),)))
    async with aiosqlite.connect(path, isolation_level=None) as locker:
        await locker.execute("BEGIN EXCLUSIVE")
        write = asyncio.create_task(store.save_state(GuildState(GUILD, queue=(make_track(2),))))
        await asyncio.sleep(0)  # let the write reach BEGIN IMMEDIATE, where it waits for the lock
        assert await asyncio.wait_for(store.load_state(GUILD), 5) == GuildState(GUILD, queue=(make_track(1),))
        assert not write.done()
        await locker.execute("ROLLBACK")
    await asyncio.wait_for(write, 30)  # the waiting write goes through once the lock is free
    assert await store.load_state(GUILD) == GuildState(GUILD, queue=(make_track(2),))
    await store.close()
