"""Pause, seek, rewind, forward and volume through the real bot as heard, and the DJ role guarding stop."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.e2e.brent_rig import DJ_ROLE, Member, StartBrent
from tests.e2e.heard_clock import clock_runs, run_start
from tests.fakediscord import FakeDiscord, message_text
from tests.media import MediaServer

pytestmark = pytest.mark.e2e


async def test_pause_holds_the_place_and_resume_continues(
    start_brent: StartBrent, alice: Member, e2e_media: MediaServer, fake_discord: FakeDiscord
) -> None:
    recorder = fake_discord.voice_log(alice.guild)
    async with start_brent():
        await alice.play_and_hear(e2e_media.url("clock.mp3"), 1.3)
        paused, _ = await alice.ask("pause", "Paused")
        quiet = await recorder.wait_for_silence(after=paused.sent_at)
        # Stay paused for a measured stretch; the check is that nothing was sent during it.
        await asyncio.sleep(0.5)
        _, np_reply = await alice.ask("np", "paused")
        resumed, _ = await alice.ask("resume", "Resumed")
        assert (
            recorder.audio_packets(after=quiet.arrival) == []
            or recorder.audio_packets(after=quiet.arrival)[0].arrival > resumed.sent_at
        )
        await recorder.wait_for_audio(1.5, after=resumed.sent_at)
    before = [p for p in recorder.audio_packets() if p.arrival < quiet.arrival]
    after = recorder.audio_packets(after=resumed.sent_at)
    assert after[0].arrival - before[-1].arrival >= 0.5
    # The heard clock runs on without a jump: each whole second lasts one second.
    runs = clock_runs(recorder.pcm())
    seconds = [k for _, k in runs]
    assert seconds == list(range(seconds[0], seconds[0] + len(seconds)))
    for (t0, _), (t1, _) in zip(runs[1:], runs[2:], strict=False):
        assert t1 - t0 == pytest.approx(1.0, abs=0.06)


async def test_seek_rewind_and_forward_land_within_a_tenth_of_a_second(
    start_brent: StartBrent, alice: Member, e2e_media: MediaServer, fake_discord: FakeDiscord
) -> None:
    recorder = fake_discord.voice_log(alice.guild)
    async with start_brent():
        await alice.play_and_hear(e2e_media.url("clock.mp3"), 1.2)
        seek_cmd, _ = await alice.ask("seek 4", "Now at")
        await recorder.wait_for_audio(1.4, after=seek_cmd.sent_at)
        rewind_cmd, _ = await alice.ask("rewind 3", "Rewound")
        await recorder.wait_for_audio(1.4, after=rewind_cmd.sent_at)
        forward_cmd, _ = await alice.ask("forward 2", "Now at")
        await recorder.wait_for_audio(1.4, after=forward_cmd.sent_at)
    audio_start = recorder.audio_packets()[0].arrival

    def audio_time(t: float) -> float:
        """Seconds of heard audio before wall time ``t``."""
        return recorder.audio_seconds() - recorder.audio_seconds(after=t)

    runs = clock_runs(recorder.pcm())
    seq = [k for _, k in runs]
    # Heard: 0, 1, [seek 4] 4, 5, [rewind 3 → ~2.4] 2, 3, [forward 2 → ~5.x] 5 or 6 ...
    assert seq[:2] == [0, 1] and 4 in seq, seq
    seek_at = run_start(runs, 4)
    assert audio_time(seek_cmd.sent_at) <= seek_at + 0.05
    assert run_start(runs, 5) - seek_at == pytest.approx(1.0, abs=0.1)  # landed on 4.0 s

    after_seek = [(t, k) for t, k in runs if t > seek_at]
    rewind_run = next(i for i, (t, k) in enumerate(after_seek) if k < 4)
    swap_t, k_swap = after_seek[rewind_run]
    position_before = after_seek[rewind_run - 1][1] + (swap_t - after_seek[rewind_run - 1][0])
    next_t = after_seek[rewind_run + 1][0]
    position_after = (k_swap + 1) - (next_t - swap_t)
    assert position_after == pytest.approx(position_before - 3, abs=0.1)

    after_rewind = after_seek[rewind_run:]
    forward_run = next(
        i for i, (t, k) in enumerate(after_rewind) if i > 0 and k != after_rewind[i - 1][1] + 1
    )
    swap_t, k_swap = after_rewind[forward_run]
    position_before = after_rewind[forward_run - 1][1] + (swap_t - after_rewind[forward_run - 1][0])
    next_t = after_rewind[forward_run + 1][0]
    position_after = (k_swap + 1) - (next_t - swap_t)
    assert position_after == pytest.approx(position_before + 2, abs=0.1)
    assert audio_start < forward_cmd.sent_at


async def test_volume_50_halves_the_amplitude(
    start_brent: StartBrent, alice: Member, e2e_media: MediaServer, fake_discord: FakeDiscord
) -> None:
    recorder = fake_discord.voice_log(alice.guild)
    async with start_brent():
        await alice.play_and_hear(e2e_media.url("tone880.mp3"), 1.0)
        _, reply = await alice.ask("volume 50", "50%")
        changed_at = fake_discord.message_time(reply)
        loud = recorder.rms(0.3, 0.9)
        await recorder.wait_for_audio(1.0, after=changed_at)
        quiet = recorder.rms(0.2, 0.9, after=changed_at)
    assert loud > 1000
    assert quiet / loud == pytest.approx(0.5, abs=0.05)
    assert recorder.dominant_frequency(0.2, 0.9, after=changed_at) == pytest.approx(880, abs=2.0)


async def test_a_member_without_the_dj_role_cannot_stop_the_music(
    start_brent: StartBrent, alice: Member, e2e_media: MediaServer, fake_discord: FakeDiscord
) -> None:
    recorder = fake_discord.voice_log(alice.guild)
    bob = Member(fake_discord, alice.guild, alice.guild.member("bob"))
    async with start_brent():
        await bob.join_voice()
        await alice.play_and_hear(e2e_media.url("tone880.mp3"), 0.3)
        refused, _ = await bob.ask("stop", DJ_ROLE)
        await recorder.wait_for_audio(0.5, after=refused.sent_at)  # still playing afterwards
        heard_until = time.perf_counter()  # the bot's shutdown below ends with silence frames
        assert fake_discord.bot_voice_channel(alice.guild) == alice.guild.voice_channel.id
    assert not any(p.silence for p in recorder.packets if p.arrival < heard_until)


async def test_remove_outside_the_queue_names_the_queues_own_range_and_removes_nothing(
    start_brent: StartBrent, alice: Member, e2e_media: MediaServer
) -> None:
    async with start_brent() as bot:
        await alice.join_voice()
        await alice.ask(f"play {e2e_media.url('tone880.mp3')}", "Playing")
        await alice.ask(f"play {e2e_media.url('tone440.mp3')}", "#1")
        await alice.ask(f"play {e2e_media.url('tone660.mp3')}", "#2")
        _, reply = await alice.ask("remove 0", "There is no track #0")
        assert "Pick a number from 1 to 2." in message_text(reply)
        assert [t.title for t in bot.players[alice.guild.id].queue] == ["tone440", "tone660"]
