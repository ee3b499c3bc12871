"""A voice clock encodes at libopus's full complexity while it has time to spare and lighter while its
passes fill its time, without flapping on one slow pass."""

from __future__ import annotations

import asyncio
import ctypes
import time
from collections.abc import Iterator

import discord
import pytest

from audio.clock_load import BUSY_ABOVE, FULL_COMPLEXITY, LIGHT_COMPLEXITY, ClockLoad
from audio.clocked_player import FRAME
from audio.timed_audio import FRAME_BYTES
from audio.voice_clock import VoiceClock
from tests.audio.test_voice_clock import RecordingVoice, play

pytestmark = pytest.mark.timeout(60)

_GET_COMPLEXITY = 4011  # OPUS_GET_COMPLEXITY_REQUEST


def complexity_of(encoder: discord.opus.Encoder) -> int:
    value = ctypes.c_int32()
    discord.opus._lib.opus_encoder_ctl(encoder._state, _GET_COMPLEXITY, ctypes.byref(value))
    return value.value


def run(load: ClockLoad, seconds: float, share: float, start: float = 0.0) -> float:
    """Passes every 20 ms for ``seconds``, each taking ``share`` of it; returns the end time."""
    t = start
    while t < start + seconds - 1e-9:
        load.passed(t, t + share * FRAME)
        t += FRAME
    return t


def test_a_clock_that_stays_busy_encodes_light_and_goes_back_to_full_once_calm() -> None:
    load = ClockLoad()
    t = run(load, 1.0, 0.7)
    assert load.complexity == FULL_COMPLEXITY  # smoothed: one busy second is not enough
    t = run(load, 4.0, 0.7, t)
    assert load.complexity == LIGHT_COMPLEXITY and load.busy > BUSY_ABOVE
    t = run(load, 10.0, 0.35, t)  # light encoding took the share down, but not below the calm mark
    assert load.complexity == LIGHT_COMPLEXITY
    run(load, 10.0, 0.1, t)
    assert load.complexity == FULL_COMPLEXITY


def test_one_long_pass_does_not_switch() -> None:
    load = ClockLoad()
    t = run(load, 5.0, 0.2)
    load.passed(t, t + 0.25)  # a garbage collection in the middle of a pass
    run(load, 1.0, 0.2, t + 0.25)
    assert load.complexity == FULL_COMPLEXITY


def test_an_idle_spell_forgets_the_load() -> None:
    load = ClockLoad()
    t = run(load, 6.0, 0.8)
    assert load.complexity == LIGHT_COMPLEXITY
    load.passed(t + 30.0, t + 30.0 + 0.001)  # the first pass after half a minute without guilds
    assert load.busy < 0.05 and load.complexity == FULL_COMPLEXITY


class SlowSilence(discord.AudioSource):
    """PCM frames that take ``seconds`` each to read: a stand-in for a clock's work."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def read(self) -> bytes:
        time.sleep(self.seconds)
        return bytes(FRAME_BYTES)


@pytest.fixture
def clock() -> Iterator[VoiceClock]:
    made = VoiceClock("test-clock-load")
    yield made
    made.close()


def voice_with_encoder() -> RecordingVoice:
    voice = RecordingVoice(asyncio.get_running_loop())
    voice.encoder = discord.opus.Encoder()  # type: ignore[attr-defined]
    return voice


async def test_the_clock_sets_its_guilds_encoders_light_while_busy_and_new_ones_start_so(clock: VoiceClock) -> None:
    busy = voice_with_encoder()
    assert complexity_of(busy.encoder) == FULL_COMPLEXITY  # type: ignore[attr-defined]  # libopus's default
    player = play(busy, clock, SlowSilence(0.7 * FRAME))
    try:
        await busy.until(lambda _: clock.load.complexity == LIGHT_COMPLEXITY and len(busy.frames) > 0)
        assert complexity_of(busy.encoder) == LIGHT_COMPLEXITY  # type: ignore[attr-defined]
        later = voice_with_encoder()
        other = play(later, clock, SlowSilence(0.0))
        try:
            await later.until(lambda v: len(v.frames) > 0)
            assert complexity_of(later.encoder) == LIGHT_COMPLEXITY  # type: ignore[attr-defined]
        finally:
            other.stop()
    finally:
        player.stop()
