"""FfmpegStandby.open_ahead against real ffmpeg and the loopback media server: a link opened before
its lookup is done, handed out only for the same request, killed otherwise; refills wait for a
hand-out's first moments."""

from __future__ import annotations

import subprocess

import psutil
import pytest

import audio.ffmpeg_standby as standby_module
from audio.ffconcat import generic_request
from audio.ffmpeg_standby import FfmpegStandby
from audio.timed_audio import TimedAudio
from audio.track import Stream
from tests.audio.pcm_analysis import read_all
from tests.audio.test_ffmpeg_standby import BROWSER_UA, wait_until_exited
from tests.media import MediaServer

pytest_plugins = ("tests.audio.timed_audio_fixtures",)

# What yt-dlp's generic extractor puts on a direct file's format (its std_headers).
YTDLP_GENERIC = {
    "User-Agent": BROWSER_UA,
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Accept-Language": "en-us,en;q=0.5",
    "Sec-Fetch-Mode": "navigate",
}


def test_the_link_is_requested_before_the_track_exists_and_that_process_plays_it(
    media_server: MediaServer, standby: FfmpegStandby
) -> None:
    url = media_server.url("tone.mp3")
    waiting = standby.pids
    assert standby.open_ahead(Stream(url, {}))
    assert media_server.wait_for_requests(1)  # fetched while no TimedAudio exists yet
    assert media_server.requests[0].path == "/tone.mp3"

    ahead = TimedAudio(Stream(url, dict(YTDLP_GENERIC)), standby=standby)
    assert ahead.from_standby and ahead.pid in waiting
    assert read_all(ahead) == read_all(TimedAudio(Stream(url, {})))
    assert ahead.error is None
    assert media_server.request_count() == 2  # the fresh comparison; the ahead process asked once


def test_a_stream_that_needs_a_site_header_does_not_get_the_process_opened_ahead(
    media_server: MediaServer, standby: FfmpegStandby
) -> None:
    url = media_server.url("tone.mp3")
    opened = next(iter(standby.pids))
    assert standby.open_ahead(Stream(url, {}))
    assert media_server.wait_for_requests(1)
    needs_referer = Stream(url, {**YTDLP_GENERIC, "Referer": "https://example.org/player"})
    source = TimedAudio(needs_referer, standby=standby)
    assert source.pid != opened
    source.cleanup()
    assert psutil.pid_exists(opened)  # left for the caller to discard
    standby.discard_ahead(Stream(url, {}))
    wait_until_exited(opened)
    with pytest.raises(psutil.NoSuchProcess):
        psutil.Process(opened).status()


def test_another_url_or_a_seek_never_gets_it(media_server: MediaServer, standby: FfmpegStandby) -> None:
    url = media_server.url("tone.mp3")
    opened = next(iter(standby.pids))
    assert standby.open_ahead(Stream(url, {}))
    other = TimedAudio(Stream(media_server.url("tone.ogg"), {}), standby=standby)
    seek = TimedAudio(Stream(url, {}), start=1.0, standby=standby)
    assert opened not in (other.pid, seek.pid)
    for source in (other, seek):
        source.cleanup()
    standby.discard_ahead(Stream(url, {}))


def test_a_link_that_failed_early_is_not_handed_out(media_server: MediaServer, standby: FfmpegStandby) -> None:
    url = media_server.url("missing.mp3")
    opened = next(iter(standby.pids))
    assert standby.open_ahead(Stream(url, {}))
    wait_until_exited(opened)  # 404: ffmpeg gives up
    assert standby.wait_ready(10)
    source = TimedAudio(Stream(url, {}), standby=standby)
    assert source.pid != opened
    source.cleanup()


def test_close_kills_a_process_opened_ahead(media_server: MediaServer) -> None:
    made = FfmpegStandby("ffmpeg", size=1)
    assert made.wait_ready(10)
    opened = next(iter(made.pids))
    assert made.open_ahead(Stream(media_server.url("tone.mp3"), {}))
    made.close()
    with pytest.raises(psutil.NoSuchProcess):
        psutil.Process(opened).status()


def test_one_left_past_its_lifetime_goes_with_the_next_discard(
    media_server: MediaServer, standby: FfmpegStandby, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = next(iter(standby.pids))
    assert standby.open_ahead(Stream(media_server.url("tone.mp3"), {}))
    assert standby.wait_ready(10)
    monkeypatch.setattr(standby_module, "AHEAD_LIFETIME", 0.0)
    standby.discard_ahead(Stream(media_server.url("tone.ogg"), {}))  # not the one opened
    with pytest.raises(psutil.NoSuchProcess):
        psutil.Process(first).status()


def test_nothing_to_open_ahead_with_says_so(media_server: MediaServer) -> None:
    empty = FfmpegStandby("ffmpeg", size=0)
    try:
        assert not empty.open_ahead(Stream(media_server.url("tone.mp3"), {}))
    finally:
        empty.close()


def test_generic_request_keeps_site_headers_only() -> None:
    stream = Stream("http://127.0.0.1/a.mp3", {**YTDLP_GENERIC, "Origin": "https://example.org"})
    assert generic_request(stream).http_headers == {"Origin": "https://example.org"}
    assert generic_request(stream).url == stream.url


def test_the_replacement_starts_only_after_the_refill_delay(
    media_server: MediaServer, standby: FfmpegStandby, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(standby_module, "REFILL_DELAY", 0.5)
    # A process made at the hand-out marks its time on the same clock as create_time() (clock ticks
    # since boot); comparing with time.time() would not be exact, as boot time is whole seconds.
    marker = subprocess.Popen(["sleep", "30"])
    try:
        taken = TimedAudio(Stream(media_server.url("tone.mp3"), {}), standby=standby)
        assert taken.from_standby
        assert standby.wait_ready(10)
        replacement = psutil.Process(next(iter(standby.pids))).create_time()
        handed_out = psutil.Process(marker.pid).create_time()
        taken.cleanup()
    finally:
        marker.kill()
        marker.wait()
    assert replacement - handed_out >= 0.5 - 0.02  # one clock tick is 10 ms
