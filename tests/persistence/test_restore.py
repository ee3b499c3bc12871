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
