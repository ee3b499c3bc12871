"""ffmpeg runs behind the voice clocks for the CPU: fresh and standby processes alike."""

from __future__ import annotations

import os

import psutil
import pytest

from audio.ffmpeg_args import FFMPEG_NICENESS
from audio.ffmpeg_standby import FfmpegStandby
from audio.timed_audio import TimedAudio
from audio.track import Stream

pytest_plugins = ("tests.audio.timed_audio_fixtures",)
pytestmark = [
    pytest.mark.skipif(not hasattr(os, "setpriority"), reason="process priorities are POSIX"),
    pytest.mark.skipif(
        hasattr(os, "nice") and os.nice(0) >= FFMPEG_NICENESS,
        reason="the tests already run at that niceness: nothing to tell apart",
    ),
]


def test_a_fresh_ffmpeg_runs_at_the_decoders_niceness(clock_stream: Stream) -> None:
    source = TimedAudio(clock_stream, start=1.0)
    try:
        assert not source.from_standby
        assert psutil.Process(source.pid).nice() == FFMPEG_NICENESS
    finally:
        source.cleanup()


def test_standby_ffmpeg_waits_and_plays_at_the_decoders_niceness(
    clock_stream: Stream, standby: FfmpegStandby
) -> None:
    assert {psutil.Process(pid).nice() for pid in standby.pids} == {FFMPEG_NICENESS}
    source = TimedAudio(clock_stream, standby=standby)
    try:
        assert source.from_standby
        assert psutil.Process(source.pid).nice() == FFMPEG_NICENESS
    finally:
        source.cleanup()
