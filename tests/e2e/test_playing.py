"""The real bot playing as heard: one track, a queue in order, skip, loop, the login standby, two guilds at once."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

import pytest

from audio.clocked_voice_client import ClockedVoiceClient
from tests.e2e.brent_rig import Member, StartBrent, add_music_guild, ffmpeg_children, player_ffmpeg
from tests.e2e.conftest import SHORT_SECONDS, SHORT_TONES, TONE_SECONDS
from tests.fakediscord import FakeDiscord, ScenarioMetrics
from tests.media import MediaServer

pytestmark = pytest.mark.e2e


async def test_play_joins_names_the_track_and_plays_it(
    start_brent: StartBrent,
    alice: Member,
    e2e_media: MediaServer,
    fake_discord: FakeDiscord,
    record_metrics: Callable[[ScenarioMetrics], None],
) -> None:
    recorder = fake_discord.voice_log(alice.guild)
    async with start_brent():
        await alice.join_voice()
        sent, reply = await alice.ask(f"play {e2e_media.url('tone440.mp3')}", "Playing")
        assert "tone440" in reply["content"]
        await fake_discord.wait_for_bot_voice(alice.guild, alice.guild.voice_channel)
        await recorder.wait_for_silence(timeout=20, after=sent.sent_at)
    assert recorder.errors == []
    assert abs(recorder.audio_seconds() - TONE_SECONDS) <= 0.1
    assert recorder.dominant_frequency() == pytest.approx(440, abs=1.0)
    assert recorder.sequence_breaks() == []
    assert recorder.gap_stats().p50_ms == pytest.approx(20.0, abs=1.0)
    metrics = fake_discord.metrics(alice.guild, sent)
    record_metrics(metrics)  # command-to-first-packet latency and gaps, for the benchmarks
    assert metrics.first_packet_latency_s is not None and metrics.first_packet_latency_s < 5.0


async def test_queue_of_three_plays_in_order(
    start_brent: StartBrent,
    alice: Member,
    e2e_media: MediaServer,
    fake_discord: FakeDiscord,
    record_metrics: Callable[[ScenarioMetrics], None],
) -> None:
    recorder = fake_discord.voice_log(alice.guild)
    async with start_brent():
        await alice.join_voice()
        first, _ = await alice.ask(f"play {e2e_media.url('short1.mp3')}", "Playing")
        await alice.ask(f"play {e2e_media.url('short2.mp3')}", "#1")
        await alice.ask(f"play {e2e_media.url('short3.mp3')}", "#2")
        await recorder.wait_for_audio(3 * SHORT_SECONDS - 0.1, timeout=20, after=first.sent_at)
        await recorder.wait_for_silence(timeout=10, after=first.sent_at)
    assert recorder.errors == []
    assert abs(recorder.audio_seconds() - 3 * SHORT_SECONDS) <= 0.2
    heard = [
        recorder.dominant_frequency(i * SHORT_SECONDS + 0.2, (i + 1) * SHORT_SECONDS - 0.2) for i in range(3)
    ]
    assert heard == pytest.approx(list(SHORT_TONES), abs=2.0)
    # The next track's ffmpeg runs before this one ends and the same audio player goes on with
    # it: no silence frames between the tracks at all, and no packet missing.
    assert recorder.transitions() == []
    assert recorder.sequence_breaks() == []
    record_metrics(fake_discord.metrics(alice.guild, first))


async def test_skip_moves_straight_to_the_next_track(
    start_brent: StartBrent, alice: Member, e2e_media: MediaServer, fake_discord: FakeDiscord
) -> None:
    recorder = fake_discord.voice_log(alice.guild)
    async with start_brent():
        await alice.join_voice()
        started, _ = await alice.ask(f"play {e2e_media.url('tone880.mp3')}", "Playing")
        await alice.ask(f"play {e2e_media.url('short2.mp3')}", "#1")
        await recorder.wait_for_audio(0.5, after=started.sent_at)
        skipped, reply = await alice.ask("skip", "Skipped")
        # Skipping ends the first source (five silence frames), so wait for the next track's sound.
        replied_at = fake_discord.message_time(reply)
        await recorder.wait_for_audio(SHORT_SECONDS - 0.1, timeout=15, after=replied_at)
        await recorder.wait_for_silence(timeout=10, after=replied_at)
    heard = recorder.audio_seconds()
    second = recorder.audio_seconds(after=skipped.sent_at)
    assert heard < 10 - 1  # the 10 s track was cut short
    assert recorder.dominant_frequency(heard - SHORT_SECONDS + 0.2, heard - 0.2) == pytest.approx(
        SHORT_TONES[1], abs=2.0
    )
    assert second == pytest.approx(SHORT_SECONDS, abs=0.25)
    assert recorder.sequence_breaks() == []  # one stream: the next track follows on the same RTP sequence


async def test_loop_track_repeats_until_turned_off(
    start_brent: StartBrent, alice: Member, e2e_media: MediaServer, fake_discord: FakeDiscord
) -> None:
    recorder = fake_discord.voice_log(alice.guild)
    async with start_brent():
        await alice.join_voice()
        started, _ = await alice.ask(f"play {e2e_media.url('short1.mp3')}", "Playing")
        await alice.ask("loop track", "track")
        await recorder.wait_for_audio(
            SHORT_SECONDS + 0.3, timeout=15, after=started.sent_at
        )  # into round two
        await alice.ask("loop off", "off")
        await recorder.wait_for_silence(timeout=10, after=started.sent_at)
    # Exactly two rounds: it repeated once, then stopped at the end of the round it was in.
    assert recorder.audio_seconds() == pytest.approx(2 * SHORT_SECONDS, abs=0.15)
    assert recorder.dominant_frequency() == pytest.approx(SHORT_TONES[0], abs=2.0)


async def test_a_track_from_its_start_plays_on_the_ffmpeg_started_at_login(
    start_brent: StartBrent, alice: Member, e2e_media: MediaServer, fake_discord: FakeDiscord
) -> None:
    recorder = fake_discord.voice_log(alice.guild)
    async with start_brent() as bot:
        standby = bot.ffmpeg_standby
        assert standby is not None and await asyncio.to_thread(standby.wait_ready, 10.0)
        waiting = set(standby.pids)  # one writing PCM, one copying Opus
        await alice.play_and_hear(e2e_media.url("tone880.mp3"), 0.3)
        [playing] = {p.pid for p in player_ffmpeg(bot)} & waiting  # a waiting process plays the track
        assert await asyncio.to_thread(standby.wait_ready, 10.0)  # and a new one waits in its place
        assert playing not in standby.pids and len(standby.pids) == len(waiting) == 2
    assert recorder.dominant_frequency() == pytest.approx(880, abs=2.0)
    assert ffmpeg_children() == []  # close() killed the standby too


async def test_two_guilds_play_their_own_tracks_at_once(
    start_brent: StartBrent, fake_discord: FakeDiscord, e2e_media: MediaServer
) -> None:
    first, second = add_music_guild(fake_discord, "First"), add_music_guild(fake_discord, "Second")
    a, b = (
        Member(fake_discord, first, first.member("alice")),
        Member(fake_discord, second, second.member("alice")),
    )
    threads_before = set(threading.enumerate())
    async with start_brent() as bot:
        await asyncio.gather(a.join_voice(), b.join_voice())
        (cmd_a, _), (cmd_b, _) = await asyncio.gather(
            a.ask(f"play {e2e_media.url('short1.mp3')}", "Playing"),
            b.ask(f"play {e2e_media.url('short3.mp3')}", "Playing"),
        )
        # Both guilds are sent by the bot's voice clocks, not by an AudioPlayer thread each.
        clients = [bot.get_guild(g.id).voice_client for g in (first, second)]  # type: ignore[union-attr]
        assert all(isinstance(c, ClockedVoiceClient) and c.is_playing() for c in clients)
        new_threads = set(threading.enumerate()) - threads_before
        assert not [t.name for t in new_threads if t.name.startswith("audio-player")]
        await asyncio.gather(
            fake_discord.voice_log(first).wait_for_silence(timeout=20, after=cmd_a.sent_at),
            fake_discord.voice_log(second).wait_for_silence(timeout=20, after=cmd_b.sent_at),
        )
    # The clocks belong to the bot: its close stops their threads.
    assert not [
        t.name for t in set(threading.enumerate()) - threads_before if t.name.startswith("voice-clock")
    ]
    for guild, freq in ((first, SHORT_TONES[0]), (second, SHORT_TONES[2])):
        rec = fake_discord.voice_log(guild)
        assert rec.errors == []
        assert abs(rec.audio_seconds() - SHORT_SECONDS) <= 0.1
        track = [hz for _, hz in rec.frequency_track(0.1)]
        assert all(abs(hz - freq) < 5 for hz in track[1:-1]), track
