"""ClockedPlayer on a VoiceClock: discord's AudioPlayer behaviour, with one thread for many guilds.

Real ffmpeg over loopback HTTP; only the network end of the voice client is replaced by a
recorder (``send_audio_packet`` keeps what would have gone to Discord).
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, cast

import discord
import pytest

from audio.clocked_player import FRAME, SILENCE_FRAMES, START_POLL_FOR, ClockedPlayer
from audio.timed_audio import FRAME_BYTES, TimedAudio
from audio.track import Stream
from audio.voice_clock import VoiceClock
from tests.audio.blocking import eventually
from tests.audio.ffmpeg_processes import wait_no_ffmpeg
from tests.media import MediaServer

pytestmark = pytest.mark.timeout(60)

TONE_FRAMES = 150  # tone.mp3 is 3 s


class _Speaking:
    def __init__(self) -> None:
        self.states: list[discord.SpeakingState] = []

    async def speak(self, state: discord.SpeakingState) -> None:
        self.states.append(state)


class _LoopHolder:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop


class RecordingVoice:
    """What ClockedPlayer calls on its VoiceClient; packets are recorded, not sent."""

    def __init__(self, loop: asyncio.AbstractEventLoop, *, timeout: float = 5.0) -> None:
        self.timeout = timeout
        self.ws = _Speaking()
        self.client = _LoopHolder(loop)
        self.frames: list[float] = []  # time.perf_counter() of each PCM frame
        self.silence = 0
        self.sent_while_disconnected = 0
        self.after_errors: list[Exception | None] = []
        self._connected = threading.Event()
        self._connected.set()
        self._cond = threading.Condition()

    def send_audio_packet(self, data: bytes, *, encode: bool = True) -> None:
        with self._cond:
            if not self._connected.is_set():
                self.sent_while_disconnected += 1
            if encode:
                assert len(data) == FRAME_BYTES
                self.frames.append(time.perf_counter())
            else:
                self.silence += 1
            self._cond.notify_all()

    def is_connected(self) -> bool:
        return self._connected.is_set()

    def wait_until_connected(self, timeout: float | None = None) -> bool:
        self._connected.wait(timeout)
        return self.is_connected()

    def after(self, error: Exception | None) -> None:
        with self._cond:
            self.after_errors.append(error)
            self._cond.notify_all()

    def drop(self) -> None:
        self._connected.clear()

    def reconnect(self) -> None:
        self._connected.set()

    def wait_for(self, check: Callable[[RecordingVoice], bool], timeout: float = 15.0) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: check(self), timeout)

    async def until(self, check: Callable[[RecordingVoice], bool], timeout: float = 15.0) -> None:
        """Wait on the recorder's condition off the loop, so the player's speak() calls still run."""
        assert await asyncio.to_thread(self.wait_for, check, timeout), "timed out"


@pytest.fixture
def clock() -> Iterator[VoiceClock]:
    clock = VoiceClock("test-voice-clock")
    yield clock
    clock.close()


def play(voice: RecordingVoice, clock: VoiceClock, source: discord.AudioSource) -> ClockedPlayer:
    player = ClockedPlayer(source, cast(Any, voice), clock, after=voice.after)
    player.start()
    return player


def tone(media_server: MediaServer) -> TimedAudio:
    return TimedAudio(Stream(media_server.url("tone.mp3"), {}))


async def playing_tone(
    clock: VoiceClock, media_server: MediaServer, *, frames: int, reconnect_timeout: float = 5.0
) -> tuple[RecordingVoice, TimedAudio, ClockedPlayer]:
    """A tone playing on ``clock`` that has sent ``frames`` frames so far."""
    voice = RecordingVoice(asyncio.get_running_loop(), timeout=reconnect_timeout)
    source = tone(media_server)
    player = play(voice, clock, source)
    await voice.until(lambda v: len(v.frames) >= frames)
    return voice, source, player


async def test_a_track_plays_whole_at_the_frame_rate_then_silence_after_and_cleanup(
    clock: VoiceClock, media_server: MediaServer
) -> None:
    voice = RecordingVoice(asyncio.get_running_loop())
    source = tone(media_server)
    player = play(voice, clock, source)
    await voice.until(lambda v: len(v.after_errors) == 1)
    assert voice.after_errors == [None]
    assert len(voice.frames) == pytest.approx(TONE_FRAMES, abs=2)
    assert player.skipped == 0  # ffmpeg's start is waited out closely, not counted as a stall
    assert voice.silence == SILENCE_FRAMES
    # Paced, not sent as fast as ffmpeg decodes: frame k can't leave before k grid ticks passed.
    assert voice.frames[-1] - voice.frames[0] >= (len(voice.frames) - 2) * FRAME
    assert source.closed
    assert await wait_no_ffmpeg() == []
    assert voice.ws.states[0] is discord.SpeakingState.voice


async def test_a_stalled_stream_does_not_hold_up_another_guild_on_the_same_clock(
    clock: VoiceClock, media_server: MediaServer
) -> None:
    loop = asyncio.get_running_loop()
    stalled_voice, voice = RecordingVoice(loop), RecordingVoice(loop)
    stalled = play(
        stalled_voice, clock, TimedAudio(Stream(media_server.url("hang.mp3"), {}), rw_timeout=30.0)
    )
    play(voice, clock, tone(media_server))  # served after the stalled one in every pass
    await voice.until(lambda v: len(v.after_errors) == 1)
    assert len(voice.frames) == pytest.approx(TONE_FRAMES, abs=2)
    # The first second is ffmpeg's start (polled closely); from then on one missed slot per tick.
    assert stalled_voice.frames == [] and stalled.skipped >= TONE_FRAMES - START_POLL_FOR / FRAME - 5
    stalled.stop()
    await stalled_voice.until(lambda v: len(v.after_errors) == 1)
    assert await wait_no_ffmpeg() == []


async def test_pause_sends_silence_and_resume_goes_on_without_losing_a_frame(
    clock: VoiceClock, media_server: MediaServer
) -> None:
    voice, source, player = await playing_tone(clock, media_server, frames=20)
    player.pause()
    await voice.until(lambda v: v.silence == SILENCE_FRAMES)
    assert player.is_paused() and not player.is_playing()
    sent_at_pause = len(voice.frames)
    assert source.frames_read == sent_at_pause  # nothing read ahead and dropped
    player.resume()
    assert player.is_playing()
    await voice.until(lambda v: len(v.after_errors) == 1)
    assert len(voice.frames) == pytest.approx(TONE_FRAMES, abs=2)
    assert voice.silence == 2 * SILENCE_FRAMES  # the pause's and the end's


async def test_stop_ends_playback_with_silence_and_kills_ffmpeg(
    clock: VoiceClock, media_server: MediaServer
) -> None:
    voice, source, player = await playing_tone(clock, media_server, frames=10)
    player.stop()
    assert not player.is_playing() and not player.is_paused()
    await voice.until(lambda v: len(v.after_errors) == 1)
    assert voice.after_errors == [None] and voice.silence == SILENCE_FRAMES
    assert len(voice.frames) < TONE_FRAMES // 2
    assert source.closed
    assert await wait_no_ffmpeg() == []


async def test_a_voice_drop_pauses_reading_and_the_track_goes_on_after_the_reconnect(
    clock: VoiceClock, media_server: MediaServer
) -> None:
    voice, _, player = await playing_tone(clock, media_server, frames=20)
    voice.drop()
    assert await asyncio.to_thread(eventually, lambda: player._reconnect_waiter is not None)
    voice.reconnect()
    await voice.until(lambda v: len(v.after_errors) == 1)
    assert voice.after_errors == [None]
    assert voice.sent_while_disconnected == 0
    assert len(voice.frames) == pytest.approx(TONE_FRAMES, abs=2)  # nothing read and dropped meanwhile
    assert voice.ws.states.count(discord.SpeakingState.voice) == 2  # at the start and after the reconnect


async def test_a_voice_that_never_comes_back_ends_playback_after_the_client_timeout(
    clock: VoiceClock, media_server: MediaServer
) -> None:
    voice, _, player = await playing_tone(clock, media_server, frames=10, reconnect_timeout=0.5)
    voice.drop()
    await voice.until(lambda v: len(v.after_errors) == 1)
    assert voice.after_errors == [None] and not player.is_playing()
    assert voice.silence == 0 and voice.sent_while_disconnected == 0
    assert await wait_no_ffmpeg() == []


async def test_players_started_apart_move_onto_one_grid(clock: VoiceClock, media_server: MediaServer) -> None:
    """One wake-up of the clock serves every guild: after its first packet a player's next one is
    due on the clock's 20 ms grid, however late in a frame it started."""
    loop = asyncio.get_running_loop()
    first_voice, second_voice = RecordingVoice(loop), RecordingVoice(loop)
    first = play(first_voice, clock, tone(media_server))
    await first_voice.until(lambda v: len(v.frames) >= 3)
    second = play(second_voice, clock, tone(media_server))
    await second_voice.until(lambda v: len(v.frames) >= 3)
    for player in (first, second):
        ticks = (player.due - clock.epoch) / FRAME
        assert ticks == pytest.approx(round(ticks), abs=1e-6)
    first.stop()
    second.stop()
    await first_voice.until(lambda v: len(v.after_errors) == 1)
    await second_voice.until(lambda v: len(v.after_errors) == 1)


class _Broken(discord.AudioSource):
    def __init__(self) -> None:
        self.cleaned = False

    def read(self) -> bytes:
        raise RuntimeError("decoder fell over")

    def cleanup(self) -> None:
        self.cleaned = True


async def test_an_error_in_a_read_reaches_after_and_the_clock_serves_the_others(
    clock: VoiceClock, media_server: MediaServer
) -> None:
    loop = asyncio.get_running_loop()
    broken_voice, voice = RecordingVoice(loop), RecordingVoice(loop)
    broken = _Broken()
    play(broken_voice, clock, broken)
    play(voice, clock, tone(media_server))
    await broken_voice.until(lambda v: len(v.after_errors) == 1)
    error = broken_voice.after_errors[0]
    assert isinstance(error, RuntimeError) and str(error) == "decoder fell over"
    assert broken.cleaned
    await voice.until(lambda v: len(v.after_errors) == 1)
    assert voice.after_errors == [None] and len(voice.frames) == pytest.approx(TONE_FRAMES, abs=2)


def test_the_grid_tick_after_a_moment_is_at_least_half_a_frame_away() -> None:
    clock = VoiceClock("grid-clock")
    try:
        for offset in (0.0, 0.001, 0.0099, 0.0101, 0.0199):
            now = clock.epoch + 7 * FRAME + offset
            tick = clock.grid_after(now)
            assert tick - now >= FRAME / 2 - 1e-9
            assert tick - now < 1.5 * FRAME
            assert math.isclose(
                (tick - clock.epoch) / FRAME, round((tick - clock.epoch) / FRAME), abs_tol=1e-9
            )
    finally:
        clock.close()
