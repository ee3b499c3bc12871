"""Self-tests of the loopback Discord's voice: joining over TLS, encryption, pacing, moves, reconnects."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import discord
import numpy as np
import pytest

from tests.e2e.minimal_bot import minimal_bot, play_in
from tests.fakediscord import (
    FakeDiscord,
    FakeGuild,
    ScenarioMetrics,
    VoiceRecorder,
    pointed_at,
    running,
    wait_for_bot,
)
from tests.fakediscord.recorder import SAMPLE_RATE
from tests.media import MediaServer

TONE_SECONDS = 3.0
SHORT_SECONDS = 1.5

pytestmark = pytest.mark.e2e


# --- voice -------------------------------------------------------------------------------------------


async def test_play_streams_the_tone_at_a_steady_20ms_pace(
    fake_discord: FakeDiscord,
    fake_guild: FakeGuild,
    e2e_media: MediaServer,
    record_metrics: Callable[[ScenarioMetrics], None],
) -> None:
    bot = minimal_bot(fake_discord)
    recorder = fake_discord.voice_log(fake_guild)
    with pointed_at(fake_discord):
        async with running(bot):
            t0 = await play_in(fake_discord, fake_guild, e2e_media.url("tone440.mp3"))
            await fake_discord.wait_for_bot_voice(fake_guild, fake_guild.voice_channel)
            await recorder.wait_for_silence(timeout=15, after=t0)
            assert fake_discord.bot_voice_channel(fake_guild) == fake_guild.voice_channel.id

    audio = recorder.audio_packets()
    assert recorder.errors == []
    assert abs(recorder.audio_seconds() - TONE_SECONDS) <= 0.1
    assert recorder.dominant_frequency() == pytest.approx(440, abs=1.0)
    assert recorder.dominant_frequency(0.5, 1.0) == pytest.approx(440, abs=3.0)
    assert recorder.sequence_breaks() == []
    assert audio[0].sequence == 1  # discord.py increments before the first packet
    assert all(b.timestamp - a.timestamp == 960 for a, b in zip(audio, audio[1:], strict=False))
    silences = [p.sequence for p in recorder.packets if p.silence]
    assert silences == list(range(audio[-1].sequence + 1, audio[-1].sequence + 6)), silences  # send_silence()
    stats = recorder.gap_stats()
    assert stats.p50_ms == pytest.approx(20.0, abs=1.0)
    assert any(e.speaking == 1 for e in recorder.speaking)
    metrics = fake_discord.metrics(fake_guild, t0)
    assert metrics.first_packet_latency_s is not None and 0 < metrics.first_packet_latency_s < 5
    record_metrics(metrics)
    # Leaving on close: the bot's op 4 with no channel is answered and tracked.
    assert fake_discord.bot_voice_channel(fake_guild) is None


async def test_without_decoding_the_fake_still_times_and_measures_the_stream(e2e_media: MediaServer) -> None:
    async with FakeDiscord(decode_audio=False) as fake:
        guild = fake.add_guild()
        bot = minimal_bot(fake)
        recorder = fake.voice_log(guild)
        with pointed_at(fake):
            async with running(bot):
                await play_in(fake, guild, e2e_media.url("short1.mp3"))
                await recorder.wait_for_silence(timeout=15)
    assert recorder.errors == []
    assert abs(recorder.audio_seconds() - SHORT_SECONDS) <= 0.1
    assert all(p.pcm == b"" and p.samples == 960 for p in recorder.audio_packets())
    assert recorder.sequence_breaks() == []
    assert recorder.gap_stats().p50_ms == pytest.approx(20.0, abs=1.0)


async def test_two_guilds_each_hear_only_their_own_tone(
    fake_discord: FakeDiscord, e2e_media: MediaServer
) -> None:
    first = fake_discord.add_guild("First", members=("alice",))
    second = fake_discord.add_guild("Second", members=("alice",))
    bot = minimal_bot(fake_discord)
    with pointed_at(fake_discord):
        async with running(bot):
            await asyncio.gather(
                play_in(fake_discord, first, e2e_media.url("short1.mp3")),
                play_in(fake_discord, second, e2e_media.url("short3.mp3")),
            )
            await asyncio.gather(
                fake_discord.voice_log(first).wait_for_silence(timeout=15),
                fake_discord.voice_log(second).wait_for_silence(timeout=15),
            )
    for guild, freq, other in ((first, 500, 700), (second, 700, 500)):
        rec = fake_discord.voice_log(guild)
        assert abs(rec.audio_seconds() - SHORT_SECONDS) <= 0.1
        track = [hz for _, hz in rec.frequency_track(0.1)]
        assert all(abs(hz - freq) < 5 for hz in track[1:-1]), track
        assert _band_energy(rec, other) < 0.01 * _band_energy(rec, freq)
        assert rec.sequence_breaks() == []
    assert {p.ssrc for p in fake_discord.voice_log(first).packets}.isdisjoint(
        {p.ssrc for p in fake_discord.voice_log(second).packets}
    )


def _band_energy(rec: VoiceRecorder, freq: float, width: float = 20.0) -> float:
    mono = rec.pcm().astype(np.float64).mean(axis=1)
    spectrum = np.abs(np.fft.rfft(mono)) ** 2
    freqs = np.fft.rfftfreq(len(mono), 1 / SAMPLE_RATE)
    return float(spectrum[(freqs > freq - width) & (freqs < freq + width)].sum())


async def test_leave_command_clears_the_bot_voice_state(
    fake_discord: FakeDiscord, fake_guild: FakeGuild, e2e_media: MediaServer
) -> None:
    bot = minimal_bot(fake_discord)
    recorder = fake_discord.voice_log(fake_guild)
    with pointed_at(fake_discord):
        async with running(bot):
            await play_in(fake_discord, fake_guild, e2e_media.url("tone880.mp3"))
            await recorder.wait_for_audio(0.5)
            command = await fake_discord.inject_message(
                fake_guild, fake_guild.text_channel, fake_guild.member("alice"), "!leave"
            )
            await fake_discord.wait_for_message(fake_guild.text_channel, "bye", after=command)
            await fake_discord.wait_for_bot_voice(fake_guild, None)
            await fake_discord.wait_until(
                lambda: not fake_discord.voice.active_sessions(fake_guild.id), 5, "voice ws closed"
            )
            assert not bot.voice_clients
    assert recorder.audio_seconds() < 9  # cut short, not played to the end


async def test_moderator_disconnect_makes_the_bot_drop_its_voice_client(
    fake_discord: FakeDiscord, fake_guild: FakeGuild, e2e_media: MediaServer
) -> None:
    bot = minimal_bot(fake_discord)
    with pointed_at(fake_discord):
        async with running(bot):
            await play_in(fake_discord, fake_guild, e2e_media.url("tone880.mp3"))
            await fake_discord.voice_log(fake_guild).wait_for_audio(0.3)
            await fake_discord.disconnect_bot_from_voice(fake_guild)
            await wait_for_bot(lambda: not bot.voice_clients, 5, "the bot to drop its voice client")
            assert fake_discord.bot_voice_channel(fake_guild) is None
            assert not fake_discord.voice_sessions(fake_guild)


async def test_moving_the_bot_renegotiates_voice_and_audio_keeps_flowing(
    fake_discord: FakeDiscord, fake_guild: FakeGuild, e2e_media: MediaServer
) -> None:
    """A move (op 4 to another channel) gets VOICE_STATE_UPDATE + VOICE_SERVER_UPDATE and the old
    voice websocket closed with 4014; discord.py identifies a new voice session and streams on.

    discord.py 2.7.1 finishes such a move only after a 30 s ``select`` on its old UDP socket times
    out (nothing arrives there on a real server either), so this test pokes that socket once; see
    ``FakeDiscord.poke_old_voice_sockets``. A bot that moves itself in production will stall.
    """
    bot = minimal_bot(fake_discord)
    recorder = fake_discord.voice_log(fake_guild)
    lounge = fake_guild.channel("Lounge")
    with pointed_at(fake_discord):
        async with running(bot):
            await play_in(fake_discord, fake_guild, e2e_media.url("tone880.mp3"))
            await recorder.wait_for_audio(0.3)
            first_ssrc = recorder.audio_packets()[0].ssrc
            command = await fake_discord.inject_message(
                fake_guild, fake_guild.text_channel, fake_guild.member("alice"), "!move Lounge"
            )
            await fake_discord.wait_until(
                lambda: (
                    [s.ssrc for s in fake_discord.voice.active_sessions(fake_guild.id)]
                    not in ([], [first_ssrc])
                ),
                10,
                "a new voice session after the move",
            )
            await fake_discord.poke_old_voice_sockets(fake_guild)
            reply = await fake_discord.wait_for_message(
                fake_guild.text_channel, "moved to Lounge", 10, after=command
            )
            await fake_discord.wait_for_bot_voice(fake_guild, lounge)
            moved_at = fake_discord.message_time(reply)
            await recorder.wait_for_audio(0.5, after=moved_at)
            sessions = fake_discord.voice_sessions(fake_guild)
    assert len(sessions) == 1 and sessions[0].ssrc != first_ssrc
    assert {p.ssrc for p in recorder.audio_packets(after=moved_at)} == {sessions[0].ssrc}
    assert recorder.dominant_frequency(after=moved_at) == pytest.approx(880, abs=2.0)
    assert recorder.errors == []
    moves = [op.d for op in fake_discord.gateway_log if op.op == 4 and op.d["channel_id"] is not None]
    assert [int(d["channel_id"]) for d in moves] == [fake_guild.voice_channel.id, lounge.id]


async def test_a_dropped_voice_websocket_is_reopened_with_a_new_session(
    fake_discord: FakeDiscord, fake_guild: FakeGuild, e2e_media: MediaServer
) -> None:
    """Close code 4000 on the voice websocket: discord.py leaves, rejoins and identifies anew.

    Only the start of that is awaited: finishing it takes discord.py 2.7.1 up to 30 s, because its
    socket reader is parked in ``select`` on the UDP socket it just closed (see the README).
    """
    bot = minimal_bot(fake_discord)
    recorder = fake_discord.voice_log(fake_guild)
    with pointed_at(fake_discord):
        async with running(bot):
            await play_in(fake_discord, fake_guild, e2e_media.url("tone880.mp3"))
            await recorder.wait_for_audio(0.3)
            (before,) = fake_discord.voice_sessions(fake_guild)
            await fake_discord.drop_bot_voice(fake_guild, 4000)
            await fake_discord.wait_until(
                lambda: any(s is not before for s in fake_discord.voice.active_sessions(fake_guild.id)),
                15,
                "a new voice session",
            )
            assert fake_discord.bot_voice_channel(fake_guild) == fake_guild.voice_channel.id
            (after,) = fake_discord.voice_sessions(fake_guild)
    assert after.ssrc != before.ssrc and after.token != before.token
    ops = [(op.op, op.d["channel_id"]) for op in fake_discord.gateway_log if op.op == 4]
    channel = fake_guild.voice_channel.id
    assert [(o, None if c is None else int(c)) for o, c in ops][:3] == [(4, channel), (4, None), (4, channel)]


async def test_gateway_reconnect_resumes_and_commands_still_work(
    fake_discord: FakeDiscord, fake_guild: FakeGuild
) -> None:
    bot = minimal_bot(fake_discord)
    with pointed_at(fake_discord):
        async with running(bot):
            await fake_discord.request_reconnect()
            await fake_discord.wait_until(lambda: fake_discord.gateway.resume_count == 1, 10, "a RESUME")
            command = await fake_discord.inject_message(
                fake_guild, fake_guild.text_channel, fake_guild.member("bob"), "!leave"
            )
            await fake_discord.wait_for_message(fake_guild.text_channel, "bye", after=command)
    assert fake_discord.gateway.identify_count == 1
    assert [op.op for op in fake_discord.gateway_log].count(6) == 1


async def test_member_voice_moves_reach_the_bot(fake_discord: FakeDiscord, fake_guild: FakeGuild) -> None:
    bot = minimal_bot(fake_discord)
    seen: asyncio.Queue[tuple[str | None, str | None]] = asyncio.Queue()

    @bot.listen()
    async def on_voice_state_update(
        member: discord.Member, before: discord.VoiceState, after: discord.VoiceState
    ) -> None:
        seen.put_nowait((before.channel and before.channel.name, after.channel and after.channel.name))

    alice = fake_guild.member("alice")
    with pointed_at(fake_discord):
        async with running(bot):
            await fake_discord.member_join_voice(fake_guild, alice, fake_guild.channel("Music"))
            assert await asyncio.wait_for(seen.get(), 5) == (None, "Music")
            await fake_discord.member_join_voice(fake_guild, alice, fake_guild.channel("Lounge"))
            assert await asyncio.wait_for(seen.get(), 5) == ("Music", "Lounge")
            await fake_discord.member_leave_voice(fake_guild, alice)
            assert await asyncio.wait_for(seen.get(), 5) == ("Lounge", None)
            member = bot.get_guild(fake_guild.id).get_member(alice.id)  # type: ignore[union-attr]
            assert member is None or member.voice is None
    assert fake_discord.member_voice_channel(fake_guild, alice) is None
