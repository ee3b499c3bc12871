"""Stop, leave and the idle timeout: the real bot goes quiet, leaves voice and leaves no ffmpeg behind."""

from __future__ import annotations

import time

import pytest

from tests.e2e.brent_rig import Member, StartBrent, ffmpeg_children, player_ffmpeg
from tests.fakediscord import FakeDiscord, wait_for_bot
from tests.media import MediaServer

pytestmark = pytest.mark.e2e


async def test_stop_and_leave_go_quiet_and_leave_no_ffmpeg(
    start_brent: StartBrent, alice: Member, e2e_media: MediaServer, fake_discord: FakeDiscord
) -> None:
    recorder = fake_discord.voice_log(alice.guild)
    async with start_brent() as bot:
        await alice.join_voice()
        started, _ = await alice.ask(f"play {e2e_media.url('tone880.mp3')}", "Playing")
        await recorder.wait_for_audio(0.5, after=started.sent_at)
        stopped, _ = await alice.ask("stop", "Stopped")
        quiet = await recorder.wait_for_silence(after=stopped.sent_at)
        await wait_for_bot(lambda: not player_ffmpeg(bot), 5, "ffmpeg to exit after stop")
        await alice.ask("leave", "Left")
        await fake_discord.wait_for_bot_voice(alice.guild, None)
        await fake_discord.wait_until(
            lambda: not fake_discord.voice.active_sessions(alice.guild.id), 5, "voice ws closed"
        )
        assert bot.voice_clients == []
        assert recorder.audio_packets(after=quiet.arrival) == []
    assert recorder.audio_seconds() < 5
    assert ffmpeg_children() == []


async def test_bot_leaves_after_the_idle_time_when_everyone_left(
    start_brent: StartBrent, alice: Member, e2e_media: MediaServer, fake_discord: FakeDiscord
) -> None:
    recorder = fake_discord.voice_log(alice.guild)
    async with start_brent(idle_timeout=1.0) as bot:
        await alice.join_voice()
        started, _ = await alice.ask(f"play {e2e_media.url('tone880.mp3')}", "Playing")
        await recorder.wait_for_audio(0.3, after=started.sent_at)
        left_at = time.perf_counter()
        await alice.leave_voice()
        await fake_discord.wait_for_bot_voice(alice.guild, None, timeout=10)
        gone_at = time.perf_counter()
        await wait_for_bot(lambda: not bot.voice_clients, 5, "the bot to drop its voice client")
        await wait_for_bot(lambda: not player_ffmpeg(bot), 5, "ffmpeg to exit")
    assert 0.9 <= gone_at - left_at <= 4.0
    # It kept playing to the empty channel until the idle time ran out, then stopped sending.
    assert recorder.audio_seconds(after=left_at) >= 0.5
