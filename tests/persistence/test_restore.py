"""Restore edge cases that need no Discord: an unreadable database, guilds the bot is no longer in,
and READY arriving twice. (Rejoining and resuming are tested through the fake Discord in
tests/e2e/test_restart.py.)"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest

from audio.track import Provider, Track
from bot.bot import BrentBot, create_bot
from bot.persistence import Persistence, RestoreOutcome
from bot.settings import Settings
from bot.sharding import Shards
from bot.store import GuildState, Store
from tests.store.conftest import StoreOpener, open_db  # noqa: F401  (fixture)

pytestmark = pytest.mark.timeout(30)

TRACK = Track("Song", "https://example.com/song.mp3", 60.0, None, None, Provider.DIRECT)


@pytest.fixture
async def store(open_db: StoreOpener) -> Store:  # noqa: F811
    return await open_db()


@pytest.fixture
async def bot() -> AsyncIterator[BrentBot]:
    made = create_bot(Settings())  # never logged in: it knows no guilds
    yield made
    made.extractor.close()


async def test_an_unreadable_database_restores_nothing_and_does_not_raise(
    bot: BrentBot, open_db: StoreOpener, caplog: pytest.LogCaptureFixture  # noqa: F811
) -> None:
    broken = await open_db()
    await broken.close()
    persistence = Persistence(bot, broken)
    with caplog.at_level(logging.ERROR, logger="bot.persistence.restore"):
        assert await persistence.restorer.restore_all(broken) == []
    assert "nothing restored" in caplog.text


async def test_guilds_the_bot_left_are_forgotten_once_even_if_ready_comes_twice(bot: BrentBot, store: Store) -> None:
    await store.save_state(GuildState(111, voice_channel_id=5, current=TRACK, position=3.0))
    persistence = Persistence(bot, store)
    await bot.add_cog(persistence)
    try:
        await persistence.on_ready()
        await persistence.restored.wait()
        assert [(r.guild_id, r.outcome) for r in persistence.restore_results] == [(111, RestoreOutcome.FORGOTTEN)]
        await persistence.writer.flush()
        assert await store.load_state(111) is None

        await store.save_state(GuildState(222, current=TRACK))
        first_run = persistence._restore_task
        await persistence.on_ready()  # a reconnect's READY
        assert persistence._restore_task is first_run
        assert await store.load_state(222) is not None
    finally:
        await persistence.close()


async def test_a_sharded_process_restores_only_its_own_shards_and_leaves_the_others_saved(store: Store) -> None:
    """Guild 1 << 22 is on shard 1 of 2, which another process runs: this one never sees it, and
    must neither forget its state nor report it; a guild on its own shard that it does not see is
    gone and is forgotten as always."""
    mine, theirs = 2 << 22, 1 << 22
    for guild_id in (mine, theirs):
        await store.save_state(GuildState(guild_id, voice_channel_id=5, current=TRACK, position=3.0))
    bot = create_bot(Settings(shards=Shards(2, (0,))))
    persistence = Persistence(bot, store)
    try:
        results = await persistence.restorer.restore_all(store)
        assert [(r.guild_id, r.outcome) for r in results] == [(mine, RestoreOutcome.FORGOTTEN)]
        await persistence.writer.flush()
        assert await store.load_state(mine) is None
        kept = await store.load_state(theirs)
        assert kept is not None and (kept.current, kept.position) == (TRACK, 3.0)
    finally:
        await persistence.close()
        await bot.close()
