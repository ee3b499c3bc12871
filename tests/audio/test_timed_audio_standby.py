"""TimedAudio taking the waiting standby ffmpeg: only for starts at 0:00 with the default sink and executable."""

from __future__ import annotations

import shutil
from pathlib import Path

import discord
import psutil
import pytest

from audio.ffmpeg_standby import FfmpegStandby
from audio.timed_audio import SILENCE_FRAME, TimedAudio
from audio.track import Stream
from tests.audio.heard_audio import read_frames
from tests.audio.pcm_analysis import dominant_frequency
from tests.audio.player_doubles import CLOCK_SECONDS
from tests.media import clock_frequency

pytest_plugins = ("tests.audio.timed_audio_fixtures",)


def test_a_start_from_zero_takes_the_standby_process(clock_stream: Stream, standby: FfmpegStandby) -> None:
    (waiting,) = standby.pids
    source = TimedAudio(clock_stream, standby=standby)
    try:
        assert source.from_standby and source.pid == waiting
        pcm = read_frames(source, 25)
        assert dominant_frequency(pcm) == pytest.approx(clock_frequency(0), abs=5)
        assert source.position == pytest.approx(0.5)
    finally:
        source.cleanup()
    assert waiting not in {p.pid for p in psutil.Process().children(recursive=True)}


def test_a_standby_source_reads_to_the_end_like_a_fresh_one(
    clock_stream: Stream, standby: FfmpegStandby
) -> None:
    source = TimedAudio(clock_stream, standby=standby)
    try:
        assert source.from_standby
        while source.read():
            pass
        assert source.position == pytest.approx(CLOCK_SECONDS, abs=0.05)
        assert source.error is None
        assert source.read() == b""
    finally:
        source.cleanup()


def test_seeks_never_use_the_standby(clock_stream: Stream, standby: FfmpegStandby) -> None:
    waiting = standby.pids
    resumed = TimedAudio(clock_stream, start=3.0, standby=standby)
    try:
        assert not resumed.from_standby and resumed.pid not in waiting
        assert standby.pids == waiting
    finally:
        resumed.cleanup()
    first = TimedAudio(clock_stream, standby=standby)
    try:
        assert first.from_standby
        assert standby.wait_ready(10)
        refilled = standby.pids
        sought = first.at(0.0)
    finally:
        first.cleanup()
    try:
        assert not sought.from_standby and sought.pid not in refilled
        assert standby.pids == refilled
    finally:
        sought.cleanup()


def test_another_log_sink_or_executable_spawns_fresh(
    clock_stream: Stream, standby: FfmpegStandby, tmp_path: Path
) -> None:
    waiting = standby.pids
    with open(tmp_path / "other.log", "wb") as other:
        source = TimedAudio(clock_stream, stderr=other, standby=standby)
        try:
            assert not source.from_standby
        finally:
            source.cleanup()
    assert shutil.which("ffmpeg") is not None
    source = TimedAudio(clock_stream, executable=shutil.which("ffmpeg") or "", standby=standby)
    try:
        assert not source.from_standby
    finally:
        source.cleanup()
    assert standby.pids == waiting


def test_aborting_a_standby_source_ends_it_with_an_error(
    clock_stream: Stream, standby: FfmpegStandby
) -> None:
    source = TimedAudio(clock_stream, standby=standby)
    try:
        assert source.from_standby
        read_frames(source, 3)
        source.abort()
        while source.read():
            pass
        assert isinstance(source.error, discord.FFmpegProcessError)
    finally:
        source.cleanup()


def test_a_retired_standby_source_yields_silence(clock_stream: Stream, standby: FfmpegStandby) -> None:
    source = TimedAudio(clock_stream, standby=standby)
    assert source.from_standby
    read_frames(source, 2)
    pid = source.pid
    source.retire()
    assert source.read() == SILENCE_FRAME
    assert source.frames_read == 2
    assert pid not in {p.pid for p in psutil.Process().children(recursive=True)}
