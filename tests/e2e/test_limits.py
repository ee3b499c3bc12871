"""Limits and permissions through the real bot; every refusal names what it hit and changes nothing."""

from __future__ import annotations

import pytest

from tests.e2e.brent_rig import DJ_ROLE, Member, StartBrent
from tests.fakediscord import FakeDiscord
from tests.media import MediaServer

pytestmark = pytest.mark.e2e


def titles(bot, guild_id: int) -> list[str]:  # noqa: ANN001
    return [t.title for t in bot.players[guild_id].queue]


async def test_queue_cap_per_member_cap_and_track_length(
    start_brent: StartBrent, alice: Member, e2e_media: MediaServer, fake_discord: FakeDiscord
) -> None:
    bob = Member(fake_discord, alice.guild, alice.guild.member("bob"))
    async with start_brent(max_queue_length=2, max_user_tracks=1, max_track_duration=9.0) as bot:
        await alice.join_voice()
        await bob.join_voice()
        _, reply = await alice.ask(f"play {e2e_media.url('tone880.mp3')}", "limit")
        assert "longer than the 0:09 limit" in reply["content"]
        # The 8 s clock keeps playing throughout, so the queue below only changes by our commands.
        await alice.ask(f"play {e2e_media.url('clock.mp3')}", "Playing")
        await alice.ask(f"play {e2e_media.url('short1.mp3')}", "#1")
        _, reply = await alice.ask(f"play {e2e_media.url('short2.mp3')}", "limit")
        assert "You already have 1 tracks queued (the limit is 1)" in reply["content"]
        await bob.ask(f"play {e2e_media.url('short2.mp3')}", "#2")
        _, reply = await bob.ask(f"play {e2e_media.url('short3.mp3')}", "full")
        assert "The queue is full (2 tracks)" in reply["content"]
        assert [t.split(".")[0] for t in titles(bot, alice.guild.id)] == ["short1", "short2"]


async def test_dj_only_commands_and_the_skip_vote(
    start_brent: StartBrent, alice: Member, e2e_media: MediaServer, fake_discord: FakeDiscord
) -> None:
    bob = Member(fake_discord, alice.guild, alice.guild.member("bob"))
    async with start_brent() as bot:
        await alice.join_voice()
        await bob.join_voice()
        await alice.ask(f"play {e2e_media.url('tone880.mp3')}", "Playing")
        await alice.ask(f"play {e2e_media.url('short1.mp3')}", "#1")
        player = bot.players[alice.guild.id]
        for command in ("stop", "volume 50", "loop track", "clear", "move 1 1", "remove 1"):
            _, reply = await bob.ask(command, "Only members with")
            assert f"the {DJ_ROLE} role or Manage Channels" in reply["content"]
        assert player.volume == 100 and len(player.queue) == 1 and player.current is not None

        _, reply = await bob.ask("skip", "Vote to skip")
        assert "1/2" in reply["content"]
        assert player.current is not None and player.current.title.startswith("tone880")
        _, reply = await alice.ask("skip", "Skipped")  # the requester (and a DJ) skips at once
        assert "tone880" in reply["content"]


async def test_commands_need_the_bots_voice_channel(
    start_brent: StartBrent, alice: Member, e2e_media: MediaServer, fake_discord: FakeDiscord
) -> None:
    bob = Member(fake_discord, alice.guild, alice.guild.member("bob"))
    async with start_brent() as bot:
        await alice.join_voice("Music")
        await alice.ask(f"play {e2e_media.url('tone880.mp3')}", "Playing")
        await bob.join_voice("Lounge")
        for command in ("pause", "skip", "seek 3", "volume 20"):
            _, reply = await bob.ask(command, "to control playback")
            assert "Join me in" in reply["content"]
        assert not bot.players[alice.guild.id].is_paused
