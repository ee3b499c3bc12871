"""`leave` keeps the queue and `join` picks it up again; `join` elsewhere while playing is refused."""

from __future__ import annotations

import pytest

from tests.e2e.test_scenarios import Member, StartBrent, alice, start_brent  # noqa: F401 (fixtures)
from tests.fakediscord import FakeDiscord
from tests.media import MediaServer

pytestmark = pytest.mark.e2e


async def test_leave_keeps_the_queue_and_join_resumes_it(
    start_brent: StartBrent, alice: Member, e2e_media: MediaServer, fake_discord: FakeDiscord  # noqa: F811
) -> None:
    recorder = fake_discord.voice_log(alice.guild)
    async with start_brent() as bot:
        await alice.join_voice()
        started, _ = await alice.ask(f"play {e2e_media.url('tone880.mp3')}", "Playing")
        await alice.ask(f"play {e2e_media.url('short2.mp3')}", "#1")
        await recorder.wait_for_audio(0.5, after=started.sent_at)
        left, _ = await alice.ask("leave", "Left")
        await fake_discord.wait_for_bot_voice(alice.guild, None)
        player = bot.players[alice.guild.id]
        assert player.current is None and [t.title for t in player.queue][-1].startswith("short2")
        assert len(player.queue) == 2

        joined, reply = await alice.ask("join", "Joined")
        assert "Resuming the queue (2 tracks)" in reply["content"]
        await recorder.wait_for_audio(1.0, after=joined.sent_at)
        assert recorder.dominant_frequency(after=joined.sent_at) == pytest.approx(880, abs=2)


async def test_join_elsewhere_while_playing_to_listeners_is_refused(
    start_brent: StartBrent, alice: Member, e2e_media: MediaServer, fake_discord: FakeDiscord  # noqa: F811
) -> None:
    bob = Member(fake_discord, alice.guild, alice.guild.member("bob"))
    async with start_brent() as bot:
        await alice.join_voice("Music")
        await bob.join_voice("Lounge")
        started, _ = await alice.ask(f"play {e2e_media.url('tone880.mp3')}", "Playing")
        _, reply = await bob.ask(f"play {e2e_media.url('short1.mp3')}", "right now")
        assert "join me there" in reply["content"]
        assert len(bot.players[alice.guild.id].queue) == 0
        await fake_discord.wait_for_bot_voice(alice.guild, alice.guild.channel("Music"))


async def test_an_idle_bot_follows_a_member_to_another_channel_promptly(
    start_brent: StartBrent, alice: Member, e2e_media: MediaServer, fake_discord: FakeDiscord  # noqa: F811
) -> None:
    bob = Member(fake_discord, alice.guild, alice.guild.member("bob"))
    recorder = fake_discord.voice_log(alice.guild)
    async with start_brent():
        await alice.join_voice("Music")
        await alice.ask("join", "Joined")
        await fake_discord.wait_for_bot_voice(alice.guild, alice.guild.channel("Music"))
        await bob.join_voice("Lounge")
        sent, _ = await bob.ask(f"play {e2e_media.url('short1.mp3')}", "Playing", timeout=10)
        await fake_discord.wait_for_bot_voice(alice.guild, alice.guild.channel("Lounge"), timeout=5)
        await recorder.wait_for_audio(0.5, timeout=5, after=sent.sent_at)
