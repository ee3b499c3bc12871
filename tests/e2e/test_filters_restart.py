"""Filters survive a restart: written through with the player state, restored with it, heard again."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from audio.filters import Filters, Style
from audio.track import Provider, Track
from bot.bot import BrentBot, create_bot
from bot.persistence import Persistence
from bot.settings import Settings
from bot.store import GuildState, open_store
from tests.e2e.brent_rig import DJ_ROLE, PREFIX, Member, add_music_guild
from tests.fakediscord import FakeDiscord, pointed_at, running, wait_for_bot
from tests.media import MediaServer, generate_tone, media_server

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

NIGHTCORE = Filters(style=Style.NIGHTCORE, bass=2)


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MediaServer]:
    root = tmp_path_factory.mktemp("filters-restart-media")
    generate_tone(root / "tone400.mp3", 400, 20)
    with media_server(root) as server:
        yield server


@asynccontextmanager
async def persistent_bot(fake: FakeDiscord, database: str, data_dir: Path) -> AsyncIterator[BrentBot]:
    """An in-process BRENT with its store and persistence, once its restore after READY is done."""
    settings = Settings(
        command_prefix=PREFIX,
        allow_private_network=True,
        dj_role=DJ_ROLE,
        data_dir=data_dir,
        database_url=database,
    )
    store = await open_store(database, data_dir)
    bot = create_bot(settings, connector=fake.connector(), guild_ready_timeout=0.1)
    bot.store = store
    persistence = Persistence(bot, store, retry_delay=0.1)
    await bot.add_cog(persistence)
    with pointed_at(fake):
        async with running(bot):
            await asyncio.wait_for(persistence.restored.wait(), 30)
            yield bot


async def test_filters_are_saved_and_a_restarted_bot_plays_with_them(
    fake_discord: FakeDiscord, media: MediaServer, tmp_path: Path
) -> None:
    guild = add_music_guild(fake_discord)
    alice = Member(fake_discord, guild, guild.member("alice"))
    await alice.join_voice()
    database = f"sqlite:///{tmp_path / 'brent.db'}"
    track = Track("tone400", media.url("tone400.mp3"), 20.0, None, None, Provider.DIRECT)
    store = await open_store(database, tmp_path)
    await store.save_state(
        GuildState(alice.guild.id, voice_channel_id=alice.guild.voice_channel.id, current=track, position=2.0)
    )
    await store.close()

    recorder = fake_discord.voice_log(alice.guild)
    async with persistent_bot(fake_discord, database, tmp_path) as bot:
        player = bot.players[alice.guild.id]
        await wait_for_bot(lambda: player.position is not None, 20, "the restored track playing")
        await alice.ask("filter nightcore", "nightcore")
        await alice.ask("filter bass 2", "bass 2")
        await wait_for_bot(lambda: player.filters == NIGHTCORE, 5, "filters set")
    saved_store = await open_store(database, tmp_path)
    saved = await saved_store.load_state(alice.guild.id)
    await saved_store.close()
    assert saved is not None and saved.filters == NIGHTCORE

    restarted = time.perf_counter()
    async with persistent_bot(fake_discord, database, tmp_path) as bot:
        player = bot.players[alice.guild.id]
        assert player.filters == NIGHTCORE
        await recorder.wait_for_audio(1.0, timeout=20, after=restarted)
        _, listing = await alice.ask("filter", "Filters on")
    assert recorder.dominant_frequency(0.2, 0.9, after=restarted) == pytest.approx(500, abs=3)
    assert "nightcore" in listing["content"] and "bass 2" in listing["content"]
