"""FfmpegStandby against real ffmpeg and the loopback media server: same audio, same failures, no leaks."""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path

import discord
import psutil
import pytest

from audio.ffconcat import concat_script, ffconcat_quote
from audio.ffmpeg_args import AUDIO_DEMUXERS, PROTOCOL_WHITELIST
from audio.ffmpeg_standby import FfmpegStandby
from audio.timed_audio import TimedAudio
from audio.track import Stream
from tests.audio.pcm_analysis import read_all
from tests.media import MediaServer, generate_tone, media_server

pytest_plugins = ("tests.audio.timed_audio_fixtures",)

BROWSER_UA = "Mozilla/5.0 (X11; Linux x86_64; it's a test) Firefox/140.0"


def child_pids() -> set[int]:
    return {p.pid for p in psutil.Process().children(recursive=True)}


def wait_until_exited(pid: int, timeout: float = 5.0) -> None:
    """Poll until ``pid`` is a zombie (the OS gives no event for it; reaping is the code under test)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return
        except psutil.NoSuchProcess:
            return
        time.sleep(0.01)
    raise AssertionError(f"pid {pid} still running")


@pytest.mark.parametrize("name", ["tone.mp3", "tone.ogg", "clock.mp3"])
def test_pcm_from_a_standby_is_byte_identical_to_a_fresh_spawn(
    media_server: MediaServer, standby: FfmpegStandby, name: str
) -> None:
    stream = Stream(media_server.url(name), {})
    from_standby = TimedAudio(stream, standby=standby)
    assert from_standby.from_standby
    fresh = TimedAudio(stream)
    assert not fresh.from_standby
    standby_pcm, fresh_pcm = read_all(from_standby), read_all(fresh)
    assert len(fresh_pcm) > 48000 * 4  # more than a second of audio
    assert standby_pcm == fresh_pcm
    assert from_standby.frames_read == fresh.frames_read
    assert from_standby.error is None and fresh.error is None


@pytest.mark.parametrize("use_standby", [True, False])
def test_a_404_fails_the_same_way_and_is_logged_to_the_same_sink(
    media_server: MediaServer, tmp_path: Path, use_standby: bool
) -> None:
    log_path = tmp_path / "ffmpeg.log"
    with open(log_path, "wb") as log_file:
        pool = FfmpegStandby("ffmpeg", stderr=log_file, size=1)
        try:
            assert pool.wait_ready(10)
            source = TimedAudio(
                Stream(media_server.url("missing.mp3"), {}),
                stderr=log_file,
                standby=pool if use_standby else None,
            )
            assert source.from_standby is use_standby
            assert read_all(source) == b""
            assert isinstance(source.error, discord.FFmpegProcessError)
            assert source.frames_read == 0
        finally:
            pool.close()
    assert b"404" in log_path.read_bytes()


@pytest.mark.parametrize("use_standby", [True, False])
def test_a_server_that_never_answers_times_out_the_same_way(
    media_server: MediaServer, standby: FfmpegStandby, use_standby: bool
) -> None:
    seen = media_server.request_count()
    source = TimedAudio(
        Stream(media_server.url("hang.mp3"), {}), rw_timeout=0.5, standby=standby if use_standby else None
    )
    assert source.from_standby is use_standby
    assert read_all(source) == b""
    assert media_server.wait_for_requests(seen + 1)
    assert isinstance(source.error, discord.FFmpegProcessError)
    assert source.frames_read == 0


@pytest.mark.parametrize("use_standby", [True, False])
def test_a_redirect_out_of_http_is_refused(
    media_dir: Path, standby: FfmpegStandby, use_standby: bool
) -> None:
    # FFmpeg's http protocol never follows a redirect out of http(s), so this holds with or without
    # the per-file protocol_whitelist; the whitelist line itself is checked in the script test below.
    redirects = {"/to-file.mp3": (media_dir / "tone.mp3").as_uri(), "/to-pipe.mp3": "pipe:0"}
    with media_server(media_dir, redirects=redirects) as server:
        for path in redirects:
            source = TimedAudio(Stream(server.url(path), {}), standby=standby if use_standby else None)
            assert source.from_standby is use_standby
            assert read_all(source) == b""
            assert isinstance(source.error, discord.FFmpegProcessError)
            assert source.frames_read == 0
            assert standby.wait_ready(10)


def test_a_url_with_quotes_reaches_the_exact_file_and_query(tmp_path: Path, standby: FfmpegStandby) -> None:
    generate_tone(tmp_path / "it's.mp3", 330, 1)
    with media_server(tmp_path) as server:
        url = server.url("it's.mp3") + "?sig='a''b'&x=%20y"
        source = TimedAudio(Stream(url, {"User-Agent": BROWSER_UA}), standby=standby)
        assert source.from_standby
        pcm = read_all(source)
        assert source.error is None and len(pcm) > 48000 * 2
        assert [r.path for r in server.requests] == ["/it's.mp3?sig='a''b'&x=%20y"]
        assert server.requests[0].headers["User-Agent"] == BROWSER_UA  # spaces and a quote in a value


def test_headers_map_to_options_and_cookies_never_leave(
    media_server: MediaServer, standby: FfmpegStandby
) -> None:
    headers = {
        "User-Agent": BROWSER_UA,
        "Referer": "https://www.example.test/watch?v=1",
        "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        "Accept-Language": "en-us,en;q=0.5",
        "Sec-Fetch-Mode": "navigate",
        "X-Origin-Token": "abc 'def'",
        "Cookie": "SID=secret",
        "Bad Name": "dropped",
    }
    seen = media_server.request_count()
    source = TimedAudio(Stream(media_server.url("tone.mp3"), headers), standby=standby)
    assert source.from_standby
    read_all(source)
    assert media_server.wait_for_requests(seen + 1)
    sent = media_server.requests[seen].headers
    assert sent["User-Agent"] == BROWSER_UA
    assert sent["Referer"] == headers["Referer"]
    assert sent["X-Origin-Token"] == "abc 'def'"
    assert sent["Accept"] == "*/*"  # ffmpeg's own
    assert not {"Cookie", "Accept-Language", "Sec-Fetch-Mode", "Bad Name"} & set(sent)


@pytest.mark.parametrize(
    "headers",
    [
        {"X-One": "1", "X-Two": "2"},
        {"User-Agent": "a\r\nX-Injected: yes"},
        {"X-Token": "a\nb"},
        {"Referer": "nul\x00"},
        {"User-Agent": "a", "user-agent": "b"},
        {"User-Agent": ""},
        {"Referer": "  "},
    ],
)
def test_streams_a_script_cannot_express_get_a_fresh_spawn(
    media_server: MediaServer, standby: FfmpegStandby, headers: dict[str, str]
) -> None:
    waiting = standby.pids
    assert standby.take(Stream(media_server.url("tone.mp3"), headers)) is None
    source = TimedAudio(Stream(media_server.url("tone.mp3"), headers), standby=standby)
    try:
        assert not source.from_standby
        assert source.pid not in waiting
    finally:
        source.cleanup()
    assert standby.pids == waiting  # still waiting for a stream it can take


def test_line_breaks_live_streams_and_other_schemes_are_not_scripted() -> None:
    assert concat_script(Stream("http://127.0.0.1/a\n.mp3", {})) is None
    assert concat_script(Stream("http://127.0.0.1/a\r.mp3", {})) is None
    assert concat_script(Stream("http://127.0.0.1/a.m3u8", {}, is_live=True)) is None
    assert concat_script(Stream("file:///etc/passwd", {})) is None


def test_the_script_opens_the_file_like_the_fresh_argv() -> None:
    script = concat_script(Stream("https://cdn.test/a b'c.mp3", {"Accept": "x"}), rw_timeout=2.5)
    assert script == (
        "ffconcat version 1.0\n"
        "file 'https://cdn.test/a b'\\''c.mp3'\n"
        "option reconnect 1\n"
        "option reconnect_streamed 1\n"
        "option reconnect_delay_max 5\n"
        "option rw_timeout 2500000\n"
        f"option protocol_whitelist {PROTOCOL_WHITELIST}\n"
        f"option format_whitelist {AUDIO_DEMUXERS}\n"
    )
    assert "pipe" not in PROTOCOL_WHITELIST and "concat" not in AUDIO_DEMUXERS
    assert ffconcat_quote("it's") == "'it'\\''s'"


def test_a_taken_process_is_replaced_in_the_background(
    media_server: MediaServer, standby: FfmpegStandby
) -> None:
    (first,) = standby.pids
    process = standby.take(Stream(media_server.url("tone.mp3"), {}))
    assert process is not None and process.pid == first
    try:
        assert standby.wait_ready(10)
        (second,) = standby.pids
        assert second != first
        assert second in child_pids()
    finally:
        process.kill()
        process.wait()
        assert process.stdout is not None
        process.stdout.close()


def test_close_kills_and_reaps_every_process_and_take_then_gives_none(media_server: MediaServer) -> None:
    pool = FfmpegStandby("ffmpeg", size=3)
    assert pool.wait_ready(10)
    pids = pool.pids
    assert len(pids) == 3 and pids <= child_pids()
    pool.close()
    pool.close()
    assert not pids & child_pids()  # zombies would still be listed
    assert pool.pids == frozenset()
    assert pool.take(Stream(media_server.url("tone.mp3"), {})) is None
    assert not pool.wait_ready(0)


def test_close_while_the_first_process_is_still_starting_leaves_none() -> None:
    before = child_pids()
    FfmpegStandby("ffmpeg", size=2).close()
    assert child_pids() <= before


def test_a_standby_that_died_is_never_handed_out(media_server: MediaServer, standby: FfmpegStandby) -> None:
    (dead,) = standby.pids
    psutil.Process(dead).kill()
    wait_until_exited(dead)
    stream = Stream(media_server.url("tone.mp3"), {})
    assert standby.take(stream) is None
    assert dead not in child_pids()  # reaped, not left a zombie
    assert standby.wait_ready(10)
    (replacement,) = standby.pids
    assert replacement != dead
    source = TimedAudio(stream, standby=standby)
    assert source.from_standby and source.pid == replacement
    assert len(read_all(source)) > 48000 * 4


def test_a_missing_executable_leaves_the_fresh_path(media_server: MediaServer) -> None:
    pool = FfmpegStandby("/nonexistent/ffmpeg", size=1)
    try:
        assert not pool.wait_ready(10)
        assert pool.take(Stream(media_server.url("tone.mp3"), {})) is None
    finally:
        pool.close()


def test_concurrent_takes_hand_each_process_out_once(media_server: MediaServer) -> None:
    pool = FfmpegStandby("ffmpeg", size=2)
    taken: list[subprocess.Popen[bytes] | None] = []
    handed: list[subprocess.Popen[bytes]] = []
    start = threading.Barrier(4)

    def take() -> None:
        start.wait()
        taken.append(pool.take(Stream(media_server.url("tone.mp3"), {})))

    try:
        assert pool.wait_ready(10)
        waiting = pool.pids
        threads = [threading.Thread(target=take) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        handed += [process for process in taken if process is not None]
        pids = [process.pid for process in handed]
        assert len(set(pids)) == len(pids)  # never the same process twice
        assert waiting <= set(pids)  # (a refill may have been fast enough to serve a third)
    finally:
        for process in handed:
            process.kill()
            process.wait()
            assert process.stdout is not None
            process.stdout.close()
        pool.close()
