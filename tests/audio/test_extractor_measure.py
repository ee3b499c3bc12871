"""Extractor.measure: a direct file's length, found by ffprobe after the resolve has returned.

Real yt-dlp and ffprobe against the loopback media server, plus a radio-like endless stream
served from this module (no length anywhere: no Content-Length, no Xing header).
"""

from __future__ import annotations

import http.server
import socketserver
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import audio.extractor.jobs as jobs_module
from audio.egress_proxy import EgressProxy
from audio.errors import UrlRefused
from audio.executors import ExecutorMode
from audio.extractor import ExtractJob, Extractor, ExtractorConfig, JobKind, allowed_extractors_for, run_job
from audio.track import Provider, Stream, Track
from audio.url_policy import Address, UrlPolicy
from tests.audio.conftest import job_config
from tests.media import FFMPEG, MediaServer, media_duration

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def extractor() -> Iterator[Extractor]:
    made = Extractor(policy=UrlPolicy(allow_private_network=True), timeout=10.0)
    yield made
    made.close()


@pytest.fixture
def extractor_in_process() -> Iterator[Extractor]:
    """Jobs run in this process, where a test can stand in for ffprobe."""
    made = Extractor(policy=UrlPolicy(allow_private_network=True), timeout=10.0, mode=ExecutorMode.THREAD)
    yield made
    made.close()


class _Radio:
    """An endless MP3 stream on 127.0.0.1, like an Icecast station: it never says how long it is."""

    def __init__(self, frames: bytes) -> None:
        self.gets = 0
        radio = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"  # the body ends when the connection does: never

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                return None

            def do_HEAD(self) -> None:  # noqa: N802
                self.send_response(200)
                self.send_header("Content-Type", "audio/mpeg")
                self.end_headers()

            def do_GET(self) -> None:  # noqa: N802
                radio.gets += 1
                self.do_HEAD()
                try:
                    while True:
                        self.wfile.write(frames)
                except OSError:
                    return  # the listener hung up

        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True

        self._server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/radio.mp3"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def radio(tmp_path: Path) -> Iterator[_Radio]:
    frames = tmp_path / "frames.mp3"
    subprocess.run(
        [
            FFMPEG,
            "-nostdin",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:duration=1",
            "-ac",
            "2",
            "-ar",
            "48000",
            "-write_xing",
            "0",
            "-id3v2_version",
            "0",
            "-f",
            "mp3",
            str(frames),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    station = _Radio(frames.read_bytes())
    yield station
    station.close()


async def test_resolve_returns_a_direct_file_unmeasured_and_measure_finds_its_length(
    extractor_in_process: Extractor, media_server: MediaServer, media_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    probes: list[str] = []
    real_probe = jobs_module.probe_stream

    def counted(ffprobe: str, url: str, *args: object, **kwargs: object) -> jobs_module.Probe:
        probes.append(url)
        return real_probe(ffprobe, url, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(jobs_module, "probe_stream", counted)
    url = media_server.url("clock.mp3")
    [track] = await extractor_in_process.resolve_all(url, requester_id=7)
    assert (track.provider, track.duration, probes) == (Provider.DIRECT, None, [])
    measured = await extractor_in_process.measure(track)
    assert probes == [url]
    assert measured.duration == pytest.approx(media_duration(media_dir / "clock.mp3"), abs=0.1)
    assert (measured.page_url, measured.title, measured.requester_id) == (url, "clock", 7)


async def test_a_single_track_resolve_all_is_unmeasured_too(
    extractor: Extractor, media_server: MediaServer, media_dir: Path
) -> None:
    [track] = await extractor.resolve_all(media_server.url("tone.ogg"))
    assert track.duration is None
    measured = await extractor.measure(track)
    assert measured.duration == pytest.approx(media_duration(media_dir / "tone.ogg"), abs=0.1)


async def test_resolve_does_not_wait_for_a_slow_ffprobe(
    extractor_in_process: Extractor, media_server: MediaServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Were ffprobe still on the resolve's path, this resolve would sit out the blocked probe."""
    release = threading.Event()

    def blocked(*args: object, **kwargs: object) -> jobs_module.Probe:
        release.wait(30)
        return jobs_module.Probe(1.0, radio=False)

    monkeypatch.setattr(jobs_module, "probe_stream", blocked)
    try:
        started = time.monotonic()
        [track] = await extractor_in_process.resolve_all(media_server.url("tone.mp3"))
        assert time.monotonic() - started < 10  # the extractor's own timeout: it did not wait
    finally:
        release.set()
    assert track.duration is None


async def test_a_radio_stream_stays_without_a_length(extractor: Extractor, radio: _Radio) -> None:
    [track] = await extractor.resolve_all(radio.url)
    assert track.provider is Provider.DIRECT and track.duration is None
    gets = radio.gets
    assert await extractor.measure(track) is track
    assert radio.gets == gets + 1  # ffprobe did listen, and found no length


async def test_measure_keeps_the_policy_of_the_page_url(media_server: MediaServer) -> None:
    """The default rules refuse loopback: measure gives the track back untouched, fetching nothing."""
    strict = Extractor(policy=UrlPolicy(), timeout=10.0)
    try:
        track = Track("tone", media_server.url("tone.mp3"), None, None, None, Provider.DIRECT)
        assert await strict.measure(track) is track
    finally:
        strict.close()
    assert media_server.requests == []


def test_a_measure_job_checks_the_stream_it_is_handed() -> None:
    """A handed Stream is checked again in the job (it crossed a process boundary as data)."""
    stream = Stream(url="http://169.254.169.254/latest/meta-data/", http_headers={})
    policy = UrlPolicy(resolver=lambda host: ["93.184.215.14"])  # a public address; never contacted
    config = ExtractorConfig(allowed_extractors=allowed_extractors_for(Provider), ffprobe="ffprobe")
    job = ExtractJob(JobKind.MEASURE, "https://example.com/a.mp3", True, policy, config, stream=stream)
    result = run_job(job)
    assert result.failure is not None and result.failure.error_type is UrlRefused
    assert result.duration is None


def test_ffprobe_follows_a_redirect_only_through_the_egress_proxy(
    media_server: MediaServer, egress: EgressProxy
) -> None:
    """Each hop is a new request to the proxy: an allowed one is measured, a refused one never fetched."""
    from tests.media import media_server as serve_media

    class RefuseOneName(UrlPolicy):
        def connectable_addresses(self, host: str) -> list[Address]:
            if host == "forbidden.test":
                raise UrlRefused("refused", detail="test rule")
            return super().connectable_addresses(host)

    strict = EgressProxy(RefuseOneName(allow_private_network=True))
    with serve_media(media_server.root) as forbidden:
        media_server.redirects["/bounce.mp3"] = media_server.url("tone.mp3")
        media_server.redirects["/away.mp3"] = f"http://forbidden.test:{forbidden.port}/tone.mp3"
        policy = UrlPolicy(allow_private_network=True)
        try:
            results = [
                run_job(ExtractJob(
                    JobKind.MEASURE, url, True, policy, job_config(strict, ffprobe="ffprobe"),
                    stream=Stream(url=url, http_headers={}),
                ))
                for url in (media_server.url("bounce.mp3"), media_server.url("away.mp3"))
            ]
        finally:
            strict.close()
        assert forbidden.requests == []
    followed, refused = results
    assert followed.failure is None and followed.duration == pytest.approx(media_duration(media_server.root / "tone.mp3"), abs=0.1)
    assert refused.failure is None and refused.duration is None


def test_a_measure_job_without_ffprobe_measures_nothing(media_server: MediaServer) -> None:
    url = media_server.url("tone.mp3")
    job = ExtractJob(
        JobKind.MEASURE,
        url,
        True,
        UrlPolicy(allow_private_network=True),
        ExtractorConfig(allowed_extractors=allowed_extractors_for(Provider), ffprobe=None),
        stream=Stream(url=url, http_headers={}),
    )
    assert run_job(job).duration is None
    assert media_server.requests == []


def test_ffprobe_gets_the_same_sanitised_headers_as_ffmpeg() -> None:
    """A header value from a remote info dict cannot add a header or a Cookie to ffprobe's request."""
    from audio.extractor import jobs

    cmd = jobs._probe_command(
        "ffprobe", "http://example.org/a.mp3",
        {"User-Agent": "ua\r\nX-Injected: 1", "Cookie": "session=1", "Bad Name": "x"}, 5.0,
    )
    block = cmd[cmd.index("-headers") + 1]
    assert block == "User-Agent: uaX-Injected: 1\r\n"
    assert cmd[-2:] == ["-i", "http://example.org/a.mp3"]
