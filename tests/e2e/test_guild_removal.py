"""A server that removes the bot: its player stops, its ffmpeg goes, its saved queue is deleted."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.persistence import persistence_of
from tests.e2e.brent_rig import Member, player_ffmpeg
from tests.e2e.test_playlists_e2e import brent_with_store
from tests.fakediscord import FakeDiscord, wait_for_bot
from tests.media import MediaServer

pytestmark = pytest.mark.e2e


async def test_a_server_that_removes_the_bot_loses_its_player_and_saved_queue(
    alice: Member, e2e_media: MediaServer, fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    guild_id = alice.guild.id
    async with brent_with_store(fake_discord, tmp_path) as bot:
        await alice.join_voice()
        await alice.ask(f"play {e2e_media.url('tone880.mp3')}", "Playing")
        await alice.ask(f"play {e2e_media.url('short1.mp3')}", "#1")
        persistence = persistence_of(bot)
        assert persistence is not None
        await persistence.writer.flush(guild_id)
        assert await persistence.store.load_state(guild_id) is not None
        player = bot.players[guild_id]
        assert player_ffmpeg(bot)

        await fake_discord.remove_bot_from_guild(alice.guild)
        await wait_for_bot(lambda: player.closed and guild_id not in bot.players, 10, "the player to be closed")
        assert guild_id not in bot.text_channels
        await wait_for_bot(lambda: not player_ffmpeg(bot), 10, "the guild's ffmpeg to exit")
        await persistence.writer.flush(guild_id)
        assert await persistence.store.load_state(guild_id) is None
