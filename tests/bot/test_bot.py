from __future__ import annotations

import logging
import textwrap
from pathlib import Path
from typing import Any

import aiohttp
import discord
import pytest
from discord.ext import commands

from audio.errors import ExtractionError
from audio.events import PlayerEvent, StateChanged
from audio.extractor import MSG_CLOSED
from audio.player import GuildPlayer
from bot.bot import EXTENSIONS, BrentBot, create_bot
from bot.client_options import bot_intents
from bot.settings import Settings
from bot.store import open_store


@pytest.fixture
async def bot() -> Any:
    made = create_bot(Settings(default_volume=40, max_queue_length=3, command_prefix="!"))
    yield made
    await made.close()


def test_extension_list() -> None:
    assert {"cogs.voice", "cogs.playback", "cogs.queue", "cogs.search"} <= set(EXTENSIONS)


def test_intents_include_the_privileged_ones_we_need() -> None:
    intents = bot_intents()
    assert intents.message_content and intents.members and intents.voice_states and intents.guilds
    assert not intents.presences


async def test_create_bot_is_offline_and_configured(bot: BrentBot) -> None:
    assert isinstance(bot, commands.Bot)
    assert bot.user is None and not bot.is_ready()
    assert bot.allowed_mentions is not None
    assert bot.allowed_mentions.to_dict() == discord.AllowedMentions.none().to_dict()
    assert bot.intents.value == bot_intents().value
    assert bot.store is None
    assert bot.players == {}
    assert bot.extractor.timeout == 30.0 and bot.extractor.playlist_limit == 100
    assert bot.extractor.policy.allow_private_network is False
    assert bot.extractor.policy.allowed_providers == bot.settings.allowed_providers


async def test_connector_kwarg_passes_through() -> None:
    connector = aiohttp.TCPConnector()
    made = create_bot(Settings(), connector=connector)
    try:
        assert made.http.connector is connector
    finally:
        await made.close()
        await connector.close()


async def test_owner_ids_come_from_settings() -> None:
    made = create_bot(Settings(owner_ids=frozenset({123456789012345678})))
    try:
        assert made.owner_ids == {123456789012345678}
    finally:
        await made.close()


async def test_player_for_creates_one_configured_player_per_guild(bot: BrentBot) -> None:
    events: list[str] = []

    async def recorder(event: PlayerEvent) -> None:
        if isinstance(event, StateChanged):
            events.append(f"state {event.guild_id}")

    bot.player_events.subscribe(recorder)
    player = bot.player_for(discord.Object(id=42))
    assert isinstance(player, GuildPlayer)
    assert bot.player_for(discord.Object(id=42)) is player
    assert bot.players == {42: player}
    assert player.volume == 40
    assert player.queue.max_length == 3
    assert bot.player_for(discord.Object(id=43)) is not player
    assert events == []  # the default volume is not reported as a change


async def test_close_stops_players_the_extractor_and_the_store(bot: BrentBot, tmp_path: Path) -> None:
    first = bot.player_for(discord.Object(id=1))
    second = bot.player_for(discord.Object(id=2))
    store = await open_store(None, tmp_path)
    bot.store = store
    await bot.close()
    assert bot.store is None
    with pytest.raises(ValueError):  # aiosqlite: "no active connection"
        await store.load_state(1)
    assert first.closed and second.closed
    assert bot.players == {}
    assert bot.is_closed()
    # A loopback URL: were the extractor still open, the policy would refuse it without any traffic.
    with pytest.raises(ExtractionError) as info:
        await bot.extractor.resolve_all("http://127.0.0.1:9/tone.mp3")
    assert info.value.user_message == MSG_CLOSED
    await bot.close()  # a second close is harmless


async def test_drop_player(bot: BrentBot) -> None:
    player = bot.player_for(discord.Object(id=7))
    await bot.drop_player(7)
    assert player.closed and 7 not in bot.players
    assert bot.player_for(discord.Object(id=7)) is not player


async def test_setup_hook_logs_a_broken_extension_and_loads_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "brent_test_ext_broken.py").write_text("raise RuntimeError('broken on purpose')\n")
    (tmp_path / "brent_test_ext_working.py").write_text(
        textwrap.dedent(
            """
            from discord.ext import commands

            class Working(commands.Cog):
                @commands.command()
                async def hello(self, ctx):
                    await ctx.send("hi")

            async def setup(bot):
                await bot.add_cog(Working())
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    names = ("brent_test_ext_broken", "brent_test_ext_absent", "brent_test_ext_working")
    made = create_bot(Settings(), extensions=names)
    try:
        with caplog.at_level(logging.ERROR, logger="bot.bot"):
            await made.setup_hook()
        assert set(made.failed_extensions) == {"brent_test_ext_broken", "brent_test_ext_absent"}
        assert made.get_command("hello") is not None
        assert "brent_test_ext_working" in made.extensions
        failures = [r for r in caplog.records if r.name == "bot.bot" and r.levelno == logging.ERROR]
        assert [r.getMessage() for r in failures] == [
            "could not load extension brent_test_ext_broken; its commands are unavailable",
            "could not load extension brent_test_ext_absent; its commands are unavailable",
        ]
        assert all(r.exc_info for r in failures)
        assert "broken on purpose" in caplog.text
    finally:
        await made.close()


async def test_the_real_cogs_load(bot: BrentBot) -> None:
    await bot.setup_hook()
    assert bot.failed_extensions == {}
    assert set(bot.extensions) == set(EXTENSIONS)
    assert bot.get_command("play") is not None and bot.get_command("help") is not None
