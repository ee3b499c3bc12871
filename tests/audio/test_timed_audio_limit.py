"""TimedAudio's play limit: the stream ends after exactly that much audio, kept across seeks, liftable."""

from __future__ import annotations

import pytest

from audio.ffmpeg_standby import FfmpegStandby
from audio.timed_audio import TimedAudio
from audio.track import Stream
from tests.audio.heard_audio import read_frames
from tests.audio.pcm_analysis import dominant_frequency
from tests.media import clock_frequency

pytest_plugins = ("tests.audio.timed_audio_fixtures",)


def test_a_play_limit_ends_the_stream_after_exactly_that_many_frames(clock_stream: Stream) -> None:
    source = TimedAudio(clock_stream, play_limit=0.5)
    try:
        pcm = read_frames(source, 25)  # 25 x 20 ms
        assert not source.limit_reached
        assert source.read() == b""
        assert source.limit_reached and source.at_end and source.frame_ready()
        assert source.frames_read == 25 and source.position == pytest.approx(0.5)
        assert source.read() == b""  # stays ended
        assert source.error is None  # the limit is not a failure
        assert dominant_frequency(pcm) == pytest.approx(clock_frequency(0), abs=5)
    finally:
        source.cleanup()


def test_without_a_limit_the_same_stream_plays_on(clock_stream: Stream) -> None:
    source = TimedAudio(clock_stream)
    try:
        read_frames(source, 26)  # past where a 0.5 s limit would have ended it
        assert source.play_limit is None and not source.limit_reached and not source.at_end
    finally:
        source.cleanup()


def test_a_seek_keeps_the_limit_as_a_position_in_the_track(clock_stream: Stream) -> None:
    first = TimedAudio(clock_stream, play_limit=0.5)
    try:
        read_frames(first, 5)
        sought = first.at(0.3)
    finally:
        first.cleanup()
    try:
        assert sought.play_limit == 0.5
        read_frames(sought, 10)  # 0.3 s -> 0.5 s
        assert sought.read() == b"" and sought.limit_reached
        assert sought.position == pytest.approx(0.5)
    finally:
        sought.cleanup()


def test_a_start_at_or_past_the_limit_ends_at_once(clock_stream: Stream) -> None:
    source = TimedAudio(clock_stream, start=2.0, play_limit=1.0)
    try:
        assert source.read() == b""
        assert source.limit_reached and source.frames_read == 0
    finally:
        source.cleanup()


def test_lifting_the_limit_lets_the_stream_play_on(clock_stream: Stream) -> None:
    source = TimedAudio(clock_stream, play_limit=0.2)
    try:
        read_frames(source, 5)
        source.play_limit = None  # the player learnt the track's length
        read_frames(source, 20)
        assert not source.limit_reached
        source.play_limit = 0.3  # already past: the next read ends it
        assert source.read() == b"" and source.limit_reached
    finally:
        source.cleanup()


def test_a_standby_source_stops_at_its_limit_too(clock_stream: Stream, standby: FfmpegStandby) -> None:
    source = TimedAudio(clock_stream, standby=standby, play_limit=0.5)
    try:
        assert source.from_standby
        read_frames(source, 25)
        assert source.read() == b"" and source.limit_reached
    finally:
        source.cleanup()


@pytest.mark.parametrize("limit", [-1.0, float("nan"), float("inf")])
def test_a_bad_play_limit_is_refused(clock_stream: Stream, limit: float) -> None:
    with pytest.raises(ValueError, match="play limit"):
        TimedAudio(clock_stream, play_limit=limit)
