"""``Persistence.saved``: a reply waits for its change to be written, but never hangs on a stuck database."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import discord
import pytest

from audio.track import Provider, Track
from bot.bot import BrentBot, create_bot
from bot.persistence import Persistence
from bot.settings import Settings
from bot.store.sqlite import SqliteStore

pytestmark = pytest.mark.timeout(30)

TRACK = Track("Song", "https://example.com/song.mp3", 60.0, None, None, Provider.DIRECT)


@pytest.fixture
async def bot() -> AsyncIterator[BrentBot]:
    made = create_bot(Settings())
    yield made
    made.extractor.close()


class WriteLock:
    """Another process-like connection holding SQLite's write lock until released."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._held = threading.Event()
        self._release = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        conn.execute("BEGIN IMMEDIATE")
        self._held.set()
        self._release.wait(20)
        conn.execute("COMMIT")
        conn.close()

    def __enter__(self) -> WriteLock:
        self._thread.start()
        assert self._held.wait(5)
        return self

    def release(self) -> None:
        self._release.set()
        self._thread.join(5)

    def __exit__(self, *exc: object) -> None:
        self.release()


async def test_saved_confirms_a_write_and_gives_up_in_time_on_a_locked_database(bot: BrentBot, tmp_path: Path) -> None:
    db_path = tmp_path / "brent.db"
    store = await SqliteStore.open(db_path, busy_timeout=10.0)
    persistence = Persistence(bot, store)
    try:
        player = bot.player_for(discord.Object(id=31))
        player.queue.add(TRACK)
        assert await persistence.saved(player) is True
        saved = await store.load_state(31)
        assert saved is not None and saved.queue == (TRACK,)

        with WriteLock(db_path) as lock:
            player.queue.add(TRACK)
            loop = asyncio.get_running_loop()
            started = loop.time()
            assert await persistence.saved(player, timeout=0.3) is False
            assert loop.time() - started < 1.0
            lock.release()
            await persistence.writer.flush(31)  # the write was only late, not lost
        saved = await store.load_state(31)
        assert saved is not None and saved.queue == (TRACK, TRACK)
    finally:
        await persistence.close()
        await store.close()
