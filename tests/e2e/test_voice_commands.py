"""`leave` keeps the queue and `join` picks it up again; `join` elsewhere while playing is refused."""

from __future__ import annotations

import pytest

from tests.e2e.brent_rig import Member, StartBrent
from tests.e2e.heard_clock import clock_runs
from tests.fakediscord import FakeDiscord
from tests.media import MediaServer

pytestmark = pytest.mark.e2e


async def test_leave_keeps_the_queue_and_join_resumes_it_where_it_was(
    start_brent: StartBrent, alice: Member, e2e_media: MediaServer, fake_discord: FakeDiscord
) -> None:
    recorder = fake_discord.voice_log(alice.guild)
    async with start_brent() as bot:
        await alice.join_voice()
        started, _ = await alice.ask(f"play {e2e_media.url('clock.mp3')}", "Playing")
        await alice.ask(f"play {e2e_media.url('short2.mp3')}", "#1")
        await recorder.wait_for_audio(2.5, after=started.sent_at)
        left, _ = await alice.ask("leave", "Left")
        await fake_discord.wait_for_bot_voice(alice.guild, None)
        heard_before = recorder.audio_seconds()
        player = bot.players[alice.guild.id]
        assert player.current is None
        assert [t.title.split(".")[0] for t in player.queue] == ["clock", "short2"]

        joined, reply = await alice.ask("join", "Joined")
        assert "Resuming the queue (2 tracks)" in reply["content"]
        await recorder.wait_for_audio(1.5, after=joined.sent_at)
    after_join = recorder.pcm(after=joined.sent_at)
    first_second = clock_runs(after_join)[0][1]
    # It continues at the second it had reached (within the checkpoint-free exact position), not 0.
    assert first_second == pytest.approx(heard_before, abs=1.0), (first_second, heard_before)
    assert first_second >= 2


async def test_join_elsewhere_while_playing_to_listeners_is_refused(
    start_brent: StartBrent, alice: Member, e2e_media: MediaServer, fake_discord: FakeDiscord
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
    start_brent: StartBrent, alice: Member, e2e_media: MediaServer, fake_discord: FakeDiscord
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
