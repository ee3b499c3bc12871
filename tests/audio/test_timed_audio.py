"""TimedAudio against real ffmpeg streaming from a loopback HTTP server."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import discord
import psutil
import pytest

from audio.errors import PlayerError
from audio.ffmpeg_args import ffmpeg_input_args, header_block
from audio.timed_audio import FRAME_BYTES, SILENCE_FRAME, TimedAudio
from audio.track import Stream
from tests.audio.blocking import eventually, returns_within
from tests.audio.heard_audio import read_frames
from tests.audio.pcm_analysis import dominant_frequency
from tests.audio.player_doubles import CLOCK_SECONDS
from tests.media import MediaServer, clock_frequency

pytest_plugins = ("tests.audio.timed_audio_fixtures",)


def test_position_counts_frames_from_the_start_offset(clock_stream: Stream) -> None:
    source = TimedAudio(clock_stream, start=1.5)
    try:
        assert source.position == 1.5
        read_frames(source, 37)
        assert source.frames_read == 37
        assert source.position == pytest.approx(1.5 + 37 * 0.02)
    finally:
        source.cleanup()


def test_reading_to_the_end_covers_the_whole_file(clock_stream: Stream) -> None:
    source = TimedAudio(clock_stream)
    try:
        while source.read():
            pass
        assert source.position == pytest.approx(CLOCK_SECONDS, abs=0.05)
        assert source.read() == b""  # stays at end of stream
    finally:
        source.cleanup()


@pytest.mark.parametrize("offset", [0.0, 3.0, 6.25])
def test_at_seeks_to_the_second_whose_pitch_we_hear(clock_stream: Stream, offset: float) -> None:
    first = TimedAudio(clock_stream)
    try:
        read_frames(first, 10)
        sought = first.at(offset)
    finally:
        first.cleanup()
    try:
        assert sought.start == offset
        assert sought.stream is clock_stream
        pcm = read_frames(sought, 25)  # 0.5 s, all inside second int(offset)
        assert dominant_frequency(pcm) == pytest.approx(clock_frequency(int(offset)), abs=5)
        assert sought.position == pytest.approx(offset + 0.5)
    finally:
        sought.cleanup()


def test_seek_lands_within_a_tenth_of_a_second(clock_stream: Stream) -> None:
    # From 4.3 s the pitch must change to second 5's exactly 0.7 s (35 frames) later.
    source = TimedAudio(clock_stream, start=4.3)
    try:
        frames = [source.read() for _ in range(60)]
    finally:
        source.cleanup()
    change = next(i for i, f in enumerate(frames) if dominant_frequency(f) == clock_frequency(5))
    assert abs(change * 0.02 - 0.7) <= 0.1
    assert dominant_frequency(b"".join(frames[:30])) == pytest.approx(clock_frequency(4), abs=5)


def test_cleanup_kills_ffmpeg_and_is_idempotent(clock_stream: Stream) -> None:
    source = TimedAudio(clock_stream)
    pid = source.pid
    assert pid is not None and psutil.pid_exists(pid)
    assert "ffmpeg" in psutil.Process(pid).name()
    read_frames(source, 5)
    source.cleanup()
    source.cleanup()
    assert source.closed
    assert pid not in {p.pid for p in psutil.Process().children(recursive=True)}
    assert source.read() == b""


def test_a_retired_source_yields_silence_instead_of_ending(clock_stream: Stream) -> None:
    source = TimedAudio(clock_stream)
    read_frames(source, 2)
    source.retire()
    assert source.read() == SILENCE_FRAME
    assert source.frames_read == 2


def test_argv_is_a_list_headers_survive_and_are_sanitised(player_server: MediaServer) -> None:
    headers = {
        "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0",
        "Accept-Language": "en-us,en;q=0.5\r\nX-Injected: yes",
        "Cookie": "SID=secret",
        "Bad Name": "dropped",
    }
    stream = Stream(player_server.url("clock.mp3"), headers)
    seen = player_server.request_count()
    source = TimedAudio(stream, start=2.0)
    try:
        argv = cast(list[str], source._process.args)  # we passed a list of str
        assert argv[0] == "ffmpeg"
        i = argv.index("-i")
        before = argv[:i]
        assert argv[i + 1] == stream.url
        for flag, value in [
            ("-reconnect", "1"),
            ("-reconnect_streamed", "1"),
            ("-reconnect_delay_max", "5"),
            ("-protocol_whitelist", "http,https,tls,tcp,crypto,httpproxy"),
            ("-format_whitelist", "mp3,ogg,mov,aac,flac,wav,matroska"),
            ("-rw_timeout", "15000000"),
            ("-ss", "2.000"),
        ]:
            assert before[before.index(flag) + 1] == value
        assert "-nostdin" in before
        assert "-vn" in argv[i:]
        block = before[before.index("-headers") + 1]
        assert block == (
            "User-Agent: Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0\r\n"
            "Accept-Language: en-us,en;q=0.5X-Injected: yes\r\n"
        )
        read_frames(source, 5)
        assert player_server.wait_for_requests(seen + 1)
        sent = player_server.requests[seen].headers
        assert sent["User-Agent"] == headers["User-Agent"]
        assert "X-Injected" not in sent and "Cookie" not in sent
    finally:
        source.cleanup()


def test_no_ss_at_zero_and_offsets_are_formatted_by_us() -> None:
    stream = Stream("https://media.test/a.mp3", {})
    assert "-ss" not in ffmpeg_input_args(stream, start=0.0)
    args = ffmpeg_input_args(stream, start=1 / 3)
    assert args[args.index("-ss") + 1] == "0.333"
    assert header_block({}) == ""


@pytest.mark.parametrize(
    "url", ["/etc/passwd", "file:///etc/passwd", "concat:a|b", "-i", "ftp://127.0.0.1/a"]
)
def test_non_http_urls_are_refused_before_ffmpeg_starts(url: str) -> None:
    before = {p.pid for p in psutil.Process().children()}
    with pytest.raises(PlayerError):
        TimedAudio(Stream(url, {}))
    assert {p.pid for p in psutil.Process().children()} <= before


def test_bad_start_is_refused(clock_stream: Stream) -> None:
    with pytest.raises(PlayerError):
        TimedAudio(clock_stream, start=float("nan"))
    source = TimedAudio(clock_stream, start=-4)
    try:
        assert source.start == 0.0
    finally:
        source.cleanup()


def test_a_404_ends_at_once_with_ffmpegs_error_and_logs_to_stderr_file(
    player_server: MediaServer,
    tmp_path: Path,
) -> None:
    log_path = tmp_path / "ffmpeg.log"
    with open(log_path, "wb") as log_file:
        source = TimedAudio(Stream(player_server.url("missing.mp3"), {}), stderr=log_file)
        try:
            assert source.read() == b""
            assert isinstance(source._current_error, discord.FFmpegProcessError)
            assert source.frames_read == 0
        finally:
            source.cleanup()
    assert b"404" in log_path.read_bytes()


def test_frame_ready_says_no_without_blocking_while_the_stream_has_nothing(media_server: MediaServer) -> None:
    source = TimedAudio(Stream(media_server.url("hang.mp3"), {}), rw_timeout=30.0)
    try:
        assert media_server.wait_for_requests(1)  # ffmpeg is connected and waiting for an answer
        assert returns_within(source.frame_ready, 5.0) is False
        source.abort()  # ffmpeg dies: the end is ready once it has exited
        assert frame_soon(source)
        assert source.read() == b"" and source.error is not None
    finally:
        source.cleanup()


def test_asking_frame_ready_between_reads_changes_no_byte(media_server: MediaServer) -> None:
    plain = TimedAudio(Stream(media_server.url("tone.mp3"), {}))
    asked = TimedAudio(Stream(media_server.url("tone.mp3"), {}))
    try:
        expected = b"".join(iter(plain.read, b""))
        got = []
        while True:
            assert frame_soon(asked)
            frame = asked.read()
            if not frame:
                break
            got.append(frame)
        assert len(expected) == 150 * FRAME_BYTES  # 3 s
        assert b"".join(got) == expected
        assert asked.frame_ready()  # at the end it stays ready: read() returns b"" at once
    finally:
        plain.cleanup()
        asked.cleanup()


def frame_soon(source: TimedAudio) -> bool:
    """Ask ``frame_ready`` the way the voice clock does, once per frame period, until it says yes."""
    return eventually(source.frame_ready, interval=0.02)
