"""Slash commands through the loopback Discord: the same code as the prefix commands, deferred
lookups, ephemeral refusals, autocomplete from memory, and registration only when definitions change."""

from __future__ import annotations

from pathlib import Path

import pytest

from audio.track import Provider, Track
from bot.bot import create_bot
from bot.command_sync import HASH_KEY, definitions_hash
from bot.settings import Settings
from bot.store import open_store
from tests.e2e.brent_rig import PREFIX, Member, StartBrent
from tests.fakediscord import FakeDiscord, pointed_at, running
from tests.fakediscord.interactions import SlashMembers
from tests.media import MediaServer

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]


async def test_slash_play_defers_then_answers_and_refusals_are_ephemeral(
    start_brent: StartBrent, alice: Member, e2e_media: MediaServer, fake_discord: FakeDiscord  # noqa: F811
) -> None:
    slash = SlashMembers(fake_discord)
    async with start_brent() as bot:
        refused = await slash.invoke(alice.guild, alice.user, "pause")
        answer = await slash.wait_for_answer(refused, "not in a voice channel")
        assert answer["ephemeral"]
        assert not fake_discord.bot_messages(alice.guild.text_channel)  # nobody else saw it

        await alice.join_voice()
        played = await slash.invoke(alice.guild, alice.user, "play", {"query": e2e_media.url("tone880.mp3")})
        await slash.wait_for_answer(played, "Playing")
        assert played.answers[0]["type"] == 5  # deferred before the lookup
        await fake_discord.voice_log(alice.guild).wait_for_audio(0.5, after=played.sent_at)

        choices = await slash.autocomplete(alice.guild, alice.user, "play", "query", "tone")
        assert [c["value"] for c in choices] == [e2e_media.url("tone880.mp3")]
        assert await slash.autocomplete(alice.guild, alice.user, "play", "query", "nothing like it") == []

        looped = await slash.invoke(alice.guild, alice.user, "loop", {"mode": "track"})
        await slash.wait_for_answer(looped, "Loop: track")
        assert bot.players[alice.guild.id].loop_mode.value == "track"


async def test_commands_are_registered_once_and_again_only_after_a_change(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    database = f"sqlite:///{tmp_path / 'brent.db'}"
    fake_discord.add_guild("G", members=("alice",))

    async def start_once() -> int:
        settings = Settings(command_prefix=PREFIX, data_dir=tmp_path, database_url=database)
        bot = create_bot(settings, connector=fake_discord.connector(), guild_ready_timeout=0.1)
        bot.store = await open_store(database, tmp_path)
        with pointed_at(fake_discord):
            async with running(bot):
                assert await bot.store.bot_value(HASH_KEY) == definitions_hash(bot.tree)
        return len(fake_discord.rest_calls("PUT", "/commands"))

    assert await start_once() == 1
    registered = {c["name"] for c in fake_discord.world.commands["global"]}
    assert {"play", "playlist", "settings", "loop", "synccommands"} <= registered
    assert await start_once() == 1  # unchanged: no second registration


async def test_play_suggests_the_tracks_of_the_servers_playlists(
    start_brent: StartBrent, alice: Member, fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    database = f"sqlite:///{tmp_path / 'brent.db'}"
    store = await open_store(database, tmp_path)
    saved = Track("Evening Raga", "https://example.com/raga.mp3", 61.0, None, None, Provider.DIRECT)
    await store.create_playlist(alice.guild.id, "calm", owner_id=alice.user.id)
    await store.add_tracks(alice.guild.id, "calm", [saved], user_id=alice.user.id, can_manage=True)
    async with start_brent() as bot:
        bot.store = store
        slash = SlashMembers(fake_discord)
        choices = await slash.autocomplete(alice.guild, alice.user, "play", "query", "raga")
        assert [(c["name"], c["value"]) for c in choices] == [("Evening Raga", "https://example.com/raga.mp3")]
        assert await slash.autocomplete(alice.guild, alice.user, "play", "query", "storm") == []
    await store.close()
