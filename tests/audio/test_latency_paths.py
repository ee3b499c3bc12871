"""The shortcuts that take lookups off ``play``'s path to the first packet (docs/benchmarks.md,
"Audio path"): one YoutubeDL per worker, the resolve's Stream handed to the first ``stream()``,
and ffprobe measuring a direct file's length after it started playing instead of before."""

from __future__ import annotations

import http.cookiejar
import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yt_dlp

import audio.extractor.extractor as extractor_module
import audio.extractor.fresh_streams as fresh_streams_module
import audio.extractor.jobs as jobs_module
import audio.extractor.ytdl as ytdl_module
from audio.egress_proxy import EgressProxy
from audio.errors import UrlRefused
from audio.extractor import (
    MSG_UNREACHABLE,
    ExtractJob,
    ExtractorConfig,
    JobKind,
    JobResult,
    allowed_extractors_for,
    run_job,
)
from audio.extractor.fresh_streams import StreamUse
from audio.track import Provider, Track
from audio.url_policy import UrlPolicy
from tests.audio.conftest import job_config
from tests.audio.infodicts import load_info
from tests.audio.ytdlp_answers import Answers, googlevideo_only, in_process
from tests.media import MediaServer, media_duration


def _in_new_thread(work: Callable[[], list[JobResult]]) -> list[JobResult]:
    """Runs ``work`` in a fresh thread: a worker thread with no YoutubeDL cached yet."""
    out: list[list[JobResult]] = []
    thread = threading.Thread(target=lambda: out.append(work()))
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive() and out
    return out[0]


@pytest.fixture
def built_ytdls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[yt_dlp.YoutubeDL]]:
    """Every YoutubeDL the extractor builds while the test runs."""
    built: list[yt_dlp.YoutubeDL] = []

    class Recorded(ytdl_module.GuardedYoutubeDL):
        def __init__(self, params: dict[str, Any], **kwargs: Any) -> None:
            super().__init__(params, **kwargs)
            built.append(self)

    monkeypatch.setattr(ytdl_module, "GuardedYoutubeDL", Recorded)
    yield built


# --- one YoutubeDL per worker --------------------------------------------------------------------


def test_consecutive_jobs_in_a_thread_share_one_youtubedl(
    media_server: MediaServer, egress: EgressProxy, built_ytdls: list[yt_dlp.YoutubeDL]
) -> None:
    config = job_config(egress)
    url = media_server.url("tone.mp3")
    allowed = UrlPolicy(allow_private_network=True)

    def jobs() -> list[JobResult]:
        first = run_job(ExtractJob(JobKind.RESOLVE_ALL, url, True, allowed, config))
        second = run_job(ExtractJob(JobKind.STREAM, url, True, allowed, config))
        return [first, second]

    first, second = _in_new_thread(jobs)
    assert first.failure is None and first.tracks[0].page_url == url
    assert second.failure is None and second.stream is not None and second.stream.url == url
    assert len(built_ytdls) == 1


def test_every_request_of_a_job_goes_through_the_egress_proxy(media_server: MediaServer) -> None:
    """The job's own check passes the loopback link; the proxy (with the default rules) does not."""
    strict = EgressProxy(UrlPolicy())
    try:
        config = job_config(strict)
        result = run_job(ExtractJob(JobKind.RESOLVE_ALL, media_server.url("tone.mp3"), True,
                                    UrlPolicy(allow_private_network=True), config))
    finally:
        strict.close()
    assert result.failure is not None and result.failure.user_message == MSG_UNREACHABLE
    assert media_server.requests == []


def test_a_job_without_an_egress_proxy_fetches_nothing(media_server: MediaServer) -> None:
    config = ExtractorConfig(timeout=10.0, allowed_extractors=allowed_extractors_for(Provider), ffprobe=None)
    result = run_job(ExtractJob(JobKind.RESOLVE_ALL, media_server.url("tone.mp3"), True,
                                UrlPolicy(allow_private_network=True), config))
    assert result.failure is not None and result.failure.error_type is UrlRefused
    assert media_server.requests == []


def test_reused_youtubedl_keeps_no_cookies_from_the_last_job(
    egress: EgressProxy, built_ytdls: list[yt_dlp.YoutubeDL]
) -> None:
    config = job_config(egress)
    ydl = ytdl_module.worker_ytdl(config)
    with ydl.job():
        ydl.cookiejar.set_cookie(_cookie("SID", "first-users-session"))
    assert len(ydl.cookiejar) == 1
    with ydl.job() as again:
        assert again is ydl and len(again.cookiejar) == 0
    assert ytdl_module.worker_ytdl(config) is ydl and len(built_ytdls) == 1


def test_reused_youtubedl_refuses_requests_between_jobs(media_server: MediaServer, egress: EgressProxy) -> None:
    ydl = ytdl_module.worker_ytdl(job_config(egress))
    with ydl.job():
        pass
    with pytest.raises(UrlRefused):
        ydl.urlopen(media_server.url("tone.mp3"))
    assert media_server.requests == []


def _cookie(name: str, value: str) -> http.cookiejar.Cookie:
    return http.cookiejar.Cookie(
        0, name, value, None, False, "127.0.0.1", False, False, "/", False, False,
        None, False, None, None, {},
    )


# --- the resolve's Stream handed to the first stream() -------------------------------------------


class _CountingPolicy(UrlPolicy):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.media_checked: list[str] = []

    def check_media_url(self, url: str) -> None:
        super().check_media_url(url)
        self.media_checked.append(url)


@pytest.fixture
def submitted(monkeypatch: pytest.MonkeyPatch) -> list[JobKind]:
    """The kind of every job the extractor sends to its (thread) executor."""
    kinds: list[JobKind] = []

    def recording(job: ExtractJob) -> JobResult:
        kinds.append(job.kind)
        return run_job(job)

    monkeypatch.setattr(extractor_module, "run_job", recording)
    return kinds


async def test_first_stream_after_a_resolve_needs_no_second_lookup(
    media_server: MediaServer, submitted: list[JobKind]
) -> None:
    policy = _CountingPolicy(allow_private_network=True)
    extractor = in_process(policy, timeout=10.0)
    try:
        url = media_server.url("tone.mp3")
        [track] = await extractor.resolve_all(url)
        assert url in policy.media_checked  # the handed-back media URL passed the policy
        served = media_server.request_count()
        stream = await extractor.stream(track)
        assert stream.url == url
        assert submitted == [JobKind.RESOLVE_ALL]
        assert media_server.request_count() == served
        await extractor.stream(track)  # handed over once: the next call looks again
        assert submitted == [JobKind.RESOLVE_ALL, JobKind.STREAM]
    finally:
        extractor.close()


async def test_a_handed_stream_older_than_the_window_is_fetched_anew(
    media_server: MediaServer, submitted: list[JobKind], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fresh_streams_module, "HANDED_STREAM_FRESHNESS", -1.0)  # every age is too old
    extractor = in_process(UrlPolicy(allow_private_network=True), timeout=10.0)
    try:
        [track] = await extractor.resolve_all(media_server.url("tone.mp3"))
        await extractor.stream(track)
    finally:
        extractor.close()
    assert submitted == [JobKind.RESOLVE_ALL, JobKind.STREAM]


@pytest.mark.parametrize(("expires_in", "lookups"), [(3600, 1), (60, 2)])
async def test_a_handed_stream_close_to_its_urls_expiry_is_fetched_anew(
    media_server: MediaServer, monkeypatch: pytest.MonkeyPatch, expires_in: int, lookups: int
) -> None:
    expire = str(int(time.time()) + expires_in)
    info = json.loads(json.dumps(load_info("youtube_video")).replace("1795843917", expire))
    page = media_server.url("watch.mp3")  # loopback: had the stand-in failed, nothing leaves
    info["webpage_url"] = page  # so the second lookup asks the loopback link too
    answers = Answers(info)
    monkeypatch.setattr(jobs_module, "_extract", answers)
    extractor = in_process(UrlPolicy(allow_private_network=True, resolver=googlevideo_only))
    try:
        [track] = await extractor.resolve_all(page)
        stream = await extractor.stream(track)
    finally:
        extractor.close()
    assert answers.asked == [page] * lookups
    assert stream.expires_at == float(expire)
    assert media_server.requests == []


async def test_a_playlist_resolve_hands_back_no_stream(
    media_server: MediaServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jobs_module, "_extract", Answers(load_info("youtube_playlist_flat")))
    extractor = in_process(UrlPolicy(allow_private_network=True), timeout=10.0, playlist_limit=1)
    try:
        [track] = await extractor.resolve_all(media_server.url("list.mp3"))
    finally:
        extractor.close()
    assert extractor._fresh_streams.take(track.page_url, StreamUse.PLAYBACK) is None


# --- ffprobe after playback has started: resolve does not wait for it -----------------------------


@pytest.fixture
def probe_log(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Order of events: "extract" (yt-dlp) and "probe <url path>" (ffprobe)."""
    events: list[str] = []
    real_extract, real_probe = jobs_module._extract, jobs_module.probe_stream

    def logged_extract(ydl: yt_dlp.YoutubeDL, url: str) -> dict[str, Any]:
        events.append("extract")
        return real_extract(ydl, url)

    def logged_probe(ffprobe: str, url: str, *args: Any, **kwargs: Any) -> jobs_module.Probe:
        events.append(f"probe {url.split('/', 3)[3]}")
        return real_probe(ffprobe, url, *args, **kwargs)

    monkeypatch.setattr(jobs_module, "_extract", logged_extract)
    monkeypatch.setattr(jobs_module, "probe_stream", logged_probe)
    return events


async def test_resolve_runs_no_ffprobe_and_measure_probes_the_resolves_stream(
    media_server: MediaServer, media_dir: Path, probe_log: list[str], submitted: list[JobKind]
) -> None:
    extractor = in_process(UrlPolicy(allow_private_network=True), timeout=10.0)
    try:
        [track] = await extractor.resolve_all(media_server.url("tone.mp3"))
        assert probe_log == ["extract"] and track.duration is None
        measured = await extractor.measure(track)
        served = media_server.request_count()
        await extractor.stream(track)  # measuring did not use up the Stream handed to playback
    finally:
        extractor.close()
    assert probe_log == ["extract", "probe tone.mp3"]  # no second yt-dlp lookup for the measure
    assert submitted == [JobKind.RESOLVE_ALL, JobKind.MEASURE]
    assert media_server.request_count() == served
    assert measured.duration == pytest.approx(media_duration(media_dir / "tone.mp3"), abs=0.1)


async def test_a_redirected_link_is_probed_where_it_ended_up_never_by_following(
    media_server: MediaServer, media_dir: Path, probe_log: list[str]
) -> None:
    """ffprobe may not follow redirects (the policy never saw the target); it probes the checked
    final URL the resolve found."""
    media_server.redirects["/bounce.mp3"] = media_server.url("tone.mp3")
    extractor = in_process(UrlPolicy(allow_private_network=True), timeout=10.0)
    try:
        [track] = await extractor.resolve_all(media_server.url("bounce.mp3"))
        measured = await extractor.measure(track)
    finally:
        extractor.close()
    assert probe_log == ["extract", "probe tone.mp3"]
    assert measured.duration == pytest.approx(media_duration(media_dir / "tone.mp3"), abs=0.1)


async def test_measure_without_a_fresh_stream_looks_the_file_up_again(
    media_server: MediaServer, media_dir: Path, probe_log: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fresh_streams_module, "HANDED_STREAM_FRESHNESS", -1.0)  # every age is too old
    extractor = in_process(UrlPolicy(allow_private_network=True), timeout=10.0)
    try:
        [track] = await extractor.resolve_all(media_server.url("tone.mp3"))
        measured = await extractor.measure(track)
    finally:
        extractor.close()
    assert probe_log == ["extract", "extract", "probe tone.mp3"]
    assert measured.duration == pytest.approx(media_duration(media_dir / "tone.mp3"), abs=0.1)


async def test_only_unmeasured_direct_files_are_measured(submitted: list[JobKind]) -> None:
    extractor = in_process(UrlPolicy(resolver=lambda host: []), timeout=10.0)
    try:
        for track in (
            Track("v", "https://www.youtube.com/watch?v=dQw4w9WgXcQ", None, None, None, Provider.YOUTUBE),
            Track("f", "https://example.com/known.mp3", 61.0, None, None, Provider.DIRECT),
        ):
            assert not extractor.needs_measuring(track)
            assert await extractor.measure(track) is track
        assert extractor.needs_measuring(Track("f", "https://example.com/f.mp3", None, None, None, Provider.DIRECT))
    finally:
        extractor.close()
    assert submitted == []
