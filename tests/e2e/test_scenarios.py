"""Scenarios: the real BRENT bot (``create_bot`` with every cog) against the loopback Discord.

Members type commands, the fake listens in the voice channel, and each test checks what a person
would hear: the right pitch, for the right time, paused when paused, at half amplitude at volume 50.
Media are generated tones and a "clock" (second k is 300 + 50k Hz) served from 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import pytest

from audio.clocked_voice_client import ClockedVoiceClient
from bot.bot import BrentBot, create_bot
from bot.settings import Settings
from tests.e2e.conftest import SHORT_SECONDS, SHORT_TONES
from tests.fakediscord import (
    FakeDiscord,
    FakeGuild,
    FakeUser,
    InjectedMessage,
    ScenarioMetrics,
    dominant_frequency,
    pointed_at,
    running,
    wait_for_bot,
)
from tests.fakediscord.recorder import SAMPLE_RATE
from tests.media import CLOCK_BASE_HZ, CLOCK_STEP_HZ, MediaServer

PREFIX = "\\"
TONE_SECONDS = 3.0
DJ_ROLE = "DJ"

pytestmark = pytest.mark.e2e


@dataclasses.dataclass
class Member:
    """A member in a fake guild who types commands in its first text channel."""

    fake: FakeDiscord
    guild: FakeGuild
    user: FakeUser

    async def join_voice(self, channel_name: str | None = None) -> None:
        channel = self.guild.channel(channel_name) if channel_name else self.guild.voice_channel
        await self.fake.member_join_voice(self.guild, self.user, channel)

    async def leave_voice(self) -> None:
        await self.fake.member_leave_voice(self.guild, self.user)

    async def say(self, command: str) -> InjectedMessage:
        return await self.fake.inject_message(self.guild, self.guild.text_channel, self.user, PREFIX + command)

    async def ask(self, command: str, expect: str, timeout: float = 15.0) -> tuple[InjectedMessage, dict[str, Any]]:
        """Type a command and wait for the bot's answer containing ``expect``."""
        sent = await self.say(command)
        reply = await self.fake.wait_for_message(self.guild.text_channel, expect, timeout, after=sent)
        return sent, reply


StartBrent = Callable[..., AbstractAsyncContextManager[BrentBot]]


@pytest.fixture
def start_brent(fake_discord: FakeDiscord, tmp_path: Path) -> StartBrent:
    """``async with start_brent(idle_timeout=...) as bot`` runs the real bot against the fake."""

    @asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[BrentBot]:
        settings = Settings(
            command_prefix=PREFIX, allow_private_network=overrides.pop("allow_private_network", True),
            idle_timeout=overrides.pop("idle_timeout", 60.0),
            dj_role=DJ_ROLE, data_dir=tmp_path, **overrides,
        )
        bot = create_bot(settings, connector=fake_discord.connector(), guild_ready_timeout=0.1)
        with pointed_at(fake_discord):
            async with running(bot):
                yield bot

    return start


def add_music_guild(fake: FakeDiscord, name: str = "Brent Guild") -> FakeGuild:
    """#general, voice Music and Lounge; alice has the DJ role, bob does not."""
    return fake.add_guild(
        name, voice_channels=("Music", "Lounge"), members=("alice", "bob"),
        roles={DJ_ROLE: 0}, member_roles={"alice": (DJ_ROLE,)},
    )


@pytest.fixture
def alice(fake_discord: FakeDiscord) -> Member:
    guild = add_music_guild(fake_discord)
    return Member(fake_discord, guild, guild.member("alice"))


def ffmpeg_children() -> list[psutil.Process]:
    """ffmpeg processes started by this test process (the bot runs in it)."""
    found = []
    for child in psutil.Process().children(recursive=True):
        try:
            if "ffmpeg" in child.name() and child.status() != psutil.STATUS_ZOMBIE:
                found.append(child)
        except psutil.NoSuchProcess:
            continue
    return found


def player_ffmpeg(bot: BrentBot) -> list[psutil.Process]:
    """The players' ffmpeg processes: all of ours except those waiting, unused, in the bot's standby."""
    children = ffmpeg_children()  # first: a standby taken after this counts as the player's
    waiting = bot.ffmpeg_standby.pids if bot.ffmpeg_standby is not None else frozenset()
    return [child for child in children if child.pid not in waiting]


# --- clock analysis ---------------------------------------------------------------------------------

WINDOW_S = 0.04
HOP_S = 0.01


def clock_runs(pcm: np.ndarray) -> list[tuple[float, int]]:
    """(start second in this audio, clock second k) for each stretch of one clock pitch.

    Windows of 40 ms every 10 ms are labelled by their pitch; a run starts where the label changes,
    estimated half a hop before the first window of the new label is mostly past the change.
    """
    win, hop = int(WINDOW_S * SAMPLE_RATE), int(HOP_S * SAMPLE_RATE)
    labels = []
    for start in range(0, len(pcm) - win + 1, hop):
        hz = dominant_frequency(pcm[start : start + win])
        labels.append(-1 if np.isnan(hz) else int(round((hz - CLOCK_BASE_HZ) / CLOCK_STEP_HZ)))
    runs: list[tuple[float, int]] = []
    for i, label in enumerate(labels):
        if not runs or runs[-1][1] != label:
            # Require two agreeing windows so one mixed window at a boundary is not a run of its own.
            if i + 1 < len(labels) and labels[i + 1] != label:
                continue
            t = 0.0 if not runs else i * HOP_S + WINDOW_S / 2 - HOP_S / 2
            runs.append((t, label))
    return runs


def run_start(runs: list[tuple[float, int]], second: int) -> float:
    return next(t for t, k in runs if k == second)


async def test_play_joins_names_the_track_and_plays_it(
    start_brent: StartBrent, alice: Member, e2e_media: MediaServer, fake_discord: FakeDiscord,
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
    start_brent: StartBrent, alice: Member, e2e_media: MediaServer, fake_discord: FakeDiscord,
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
    heard = [recorder.dominant_frequency(i * SHORT_SECONDS + 0.2, (i + 1) * SHORT_SECONDS - 0.2) for i in range(3)]
    assert heard == pytest.approx(list(SHORT_TONES), abs=2.0)
    # The next track's ffmpeg runs before this one ends and the same audio player goes on with
    # it: no silence frames between the tracks at all, and no packet missing.
    assert recorder.transitions() == []
    assert recorder.sequence_breaks() == []
    record_metrics(fake_discord.metrics(alice.guild, first))


async def test_pause_holds_the_place_and_resume_continues(
    start_brent: StartBrent, alice: Member, e2e_media: MediaServer, fake_discord: FakeDiscord
) -> None:
    recorder = fake_discord.voice_log(alice.guild)
    async with start_brent():
        await alice.join_voice()
        started, _ = await alice.ask(f"play {e2e_media.url('clock.mp3')}", "Playing")
        await recorder.wait_for_audio(1.3, after=started.sent_at)
        paused, _ = await alice.ask("pause", "Paused")
        quiet = await recorder.wait_for_silence(after=paused.sent_at)
        # Stay paused for a measured stretch; the check is that nothing was sent during it.
        await asyncio.sleep(0.5)
        _, np_reply = await alice.ask("np", "paused")
        resumed, _ = await alice.ask("resume", "Resumed")
        assert recorder.audio_packets(after=quiet.arrival) == [] or recorder.audio_packets(after=quiet.arrival)[0].arrival > resumed.sent_at
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
        await alice.join_voice()
        started, _ = await alice.ask(f"play {e2e_media.url('clock.mp3')}", "Playing")
        await recorder.wait_for_audio(1.2, after=started.sent_at)
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
    forward_run = next(i for i, (t, k) in enumerate(after_rewind) if i > 0 and k != after_rewind[i - 1][1] + 1)
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
        await alice.join_voice()
        started, _ = await alice.ask(f"play {e2e_media.url('tone880.mp3')}", "Playing")
        await recorder.wait_for_audio(1.0, after=started.sent_at)
        _, reply = await alice.ask("volume 50", "50%")
        changed_at = fake_discord.message_time(reply)
        loud = recorder.rms(0.3, 0.9)
        await recorder.wait_for_audio(1.0, after=changed_at)
        quiet = recorder.rms(0.2, 0.9, after=changed_at)
    assert loud > 1000
    assert quiet / loud == pytest.approx(0.5, abs=0.05)
    assert recorder.dominant_frequency(0.2, 0.9, after=changed_at) == pytest.approx(880, abs=2.0)


async def test_loop_track_repeats_until_turned_off(
    start_brent: StartBrent, alice: Member, e2e_media: MediaServer, fake_discord: FakeDiscord
) -> None:
    recorder = fake_discord.voice_log(alice.guild)
    async with start_brent():
        await alice.join_voice()
        started, _ = await alice.ask(f"play {e2e_media.url('short1.mp3')}", "Playing")
        await alice.ask("loop track", "track")
        await recorder.wait_for_audio(SHORT_SECONDS + 0.3, timeout=15, after=started.sent_at)  # into round two
        await alice.ask("loop off", "off")
        await recorder.wait_for_silence(timeout=10, after=started.sent_at)
    # Exactly two rounds: it repeated once, then stopped at the end of the round it was in.
    assert recorder.audio_seconds() == pytest.approx(2 * SHORT_SECONDS, abs=0.15)
    assert recorder.dominant_frequency() == pytest.approx(SHORT_TONES[0], abs=2.0)


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
        await fake_discord.wait_until(lambda: not fake_discord.voice.active_sessions(alice.guild.id), 5, "voice ws closed")
        assert bot.voice_clients == []
        assert recorder.audio_packets(after=quiet.arrival) == []
    assert recorder.audio_seconds() < 5
    assert ffmpeg_children() == []


async def test_a_track_from_its_start_plays_on_the_ffmpeg_started_at_login(
    start_brent: StartBrent, alice: Member, e2e_media: MediaServer, fake_discord: FakeDiscord
) -> None:
    recorder = fake_discord.voice_log(alice.guild)
    async with start_brent() as bot:
        standby = bot.ffmpeg_standby
        assert standby is not None and await asyncio.to_thread(standby.wait_ready, 10.0)
        waiting = set(standby.pids)
        await alice.join_voice()
        started, _ = await alice.ask(f"play {e2e_media.url('tone880.mp3')}", "Playing")
        await recorder.wait_for_audio(0.3, after=started.sent_at)
        assert {p.pid for p in player_ffmpeg(bot)} & waiting  # the waiting process plays the track
        assert await asyncio.to_thread(standby.wait_ready, 10.0)  # and a new one waits in its place
        assert not set(standby.pids) & waiting
    assert recorder.dominant_frequency() == pytest.approx(880, abs=2.0)
    assert ffmpeg_children() == []  # close() killed the standby too


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
    assert recorder.dominant_frequency(heard - SHORT_SECONDS + 0.2, heard - 0.2) == pytest.approx(SHORT_TONES[1], abs=2.0)
    assert second == pytest.approx(SHORT_SECONDS, abs=0.25)
    assert recorder.sequence_breaks() == []  # one stream: the next track follows on the same RTP sequence


async def test_a_member_without_the_dj_role_cannot_stop_the_music(
    start_brent: StartBrent, alice: Member, e2e_media: MediaServer, fake_discord: FakeDiscord
) -> None:
    recorder = fake_discord.voice_log(alice.guild)
    bob = Member(fake_discord, alice.guild, alice.guild.member("bob"))
    async with start_brent():
        await alice.join_voice()
        await bob.join_voice()
        started, _ = await alice.ask(f"play {e2e_media.url('tone880.mp3')}", "Playing")
        await recorder.wait_for_audio(0.3, after=started.sent_at)
        refused, _ = await bob.ask("stop", DJ_ROLE)
        await recorder.wait_for_audio(0.5, after=refused.sent_at)  # still playing afterwards
        assert fake_discord.bot_voice_channel(alice.guild) == alice.guild.voice_channel.id
    assert not any(p.silence for p in recorder.packets if p.arrival < refused.sent_at + 0.5)


async def test_two_guilds_play_their_own_tracks_at_once(
    start_brent: StartBrent, fake_discord: FakeDiscord, e2e_media: MediaServer
) -> None:
    first, second = add_music_guild(fake_discord, "First"), add_music_guild(fake_discord, "Second")
    a, b = Member(fake_discord, first, first.member("alice")), Member(fake_discord, second, second.member("alice"))
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
    assert not [t.name for t in set(threading.enumerate()) - threads_before if t.name.startswith("voice-clock")]
    for guild, freq in ((first, SHORT_TONES[0]), (second, SHORT_TONES[2])):
        rec = fake_discord.voice_log(guild)
        assert rec.errors == []
        assert abs(rec.audio_seconds() - SHORT_SECONDS) <= 0.1
        track = [hz for _, hz in rec.frequency_track(0.1)]
        assert all(abs(hz - freq) < 5 for hz in track[1:-1]), track


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


MAIN_PY = Path(__file__).resolve().parents[2] / "main.py"
MADE_UP_TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GabcDE.abcdefghijklmnopqrstuvwxyz0123456789AB"


@pytest.mark.skipif(not MAIN_PY.exists(), reason="main.py is not written yet")
async def test_real_main_py_process_reaches_ready_and_plays(
    fake_discord: FakeDiscord, alice: Member, e2e_media: MediaServer, tmp_path: Path
) -> None:
    """The shipped entry point, unmodified, with a made-up token in credentials.env.

    Only the environment differs from a real start: sitecustomize on PYTHONPATH points discord.py
    at the fake and SSL_CERT_FILE makes the voice wss:// trust the fake's test CA.
    """
    workdir = tmp_path / "brent"
    workdir.mkdir()
    (workdir / "credentials.env").write_text(
        f"CLIENT_TOKEN={MADE_UP_TOKEN}\nCOMMAND_PREFIX={PREFIX}\nALLOW_PRIVATE_NETWORK=1\n"
        f"DATA_DIR={workdir / 'data'}\nDJ_ROLE={DJ_ROLE}\nLOG_LEVEL=INFO\n"
    )
    (workdir / "credentials.env").chmod(0o600)
    env = fake_discord.subprocess_env()
    env.pop("CLIENT_TOKEN", None)
    out = (workdir / "stdout.log").open("wb")
    err = (workdir / "stderr.log").open("wb")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(MAIN_PY), cwd=workdir, env=env, stdout=out, stderr=err
    )
    recorder = fake_discord.voice_log(alice.guild)
    try:
        await fake_discord.wait_for_ready(timeout=30)
        identify = next(op for op in fake_discord.gateway_log if op.op == 2)
        assert identify.d["token"] == MADE_UP_TOKEN
        await alice.join_voice()
        sent, reply = await alice.ask(f"play {e2e_media.url('tone440.mp3')}", "Playing", timeout=30)
        assert "tone440" in reply["content"]
        await recorder.wait_for_silence(timeout=20, after=sent.sent_at)
        # Stop it mid-track the way a service manager does: SIGTERM, then an orderly close.
        long_play, _ = await alice.ask(f"play {e2e_media.url('tone880.mp3')}", "Playing", timeout=30)
        await recorder.wait_for_audio(0.3, after=long_play.sent_at)
        children = [c for c in psutil.Process(proc.pid).children(recursive=True) if "ffmpeg" in c.name()]
        assert children, "the bot process should be running ffmpeg while playing"
        proc.terminate()
        assert await asyncio.wait_for(proc.wait(), 20) == 0
        assert fake_discord.bot_voice_channel(alice.guild) is None
        assert not any(c.is_running() and c.status() != psutil.STATUS_ZOMBIE for c in children)
    finally:
        if proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 15)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        out.close()
        err.close()
    logs = (workdir / "stdout.log").read_text(errors="replace") + (workdir / "stderr.log").read_text(errors="replace")
    assert MADE_UP_TOKEN not in logs
    assert recorder.errors == []
    assert recorder.dominant_frequency(0, TONE_SECONDS) == pytest.approx(440, abs=1.0)
    assert recorder.dominant_frequency(after=long_play.sent_at) == pytest.approx(880, abs=1.0)
