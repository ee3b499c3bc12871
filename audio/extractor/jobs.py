"""The blocking half of every lookup, as one picklable job in and one picklable result out.

:func:`run_job` is a module-level function of one argument, and errors come back as data
(``BrentError`` does not survive pickling), so a thread, a worker process or a fresh subprocess can
run it alike (audio/worker_pool.py).
"""

from __future__ import annotations

import enum
import logging
import math
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yt_dlp
from yt_dlp.networking.exceptions import HTTPError, RequestError
from yt_dlp.utils import DownloadError, ExtractorError

from audio.egress_proxy import ffmpeg_environment
from audio.errors import BrentError, ExtractionError, NothingFound
from audio.extractor.config import ExtractorConfig
from audio.extractor.info import (
    playable_entries,
    require_direct_file,
    stream_from_info,
    tracks_from_info,
    web_url,
)
from audio.extractor.messages import (
    MSG_GENERIC,
    MSG_NOTHING,
    MSG_TOO_LARGE,
    MSG_UNREACHABLE,
    error_from_ytdlp,
)
from audio.extractor.ytdl import worker_ytdl
from audio.ffmpeg_args import AUDIO_DEMUXERS, PROTOCOL_WHITELIST, header_block
from audio.track import Stream, Track
from audio.url_policy import UrlPolicy

log = logging.getLogger(__name__)

MAX_PAGE_BYTES = 4 * 1024 * 1024  # a music site's public page; the metadata is in its head


class JobKind(enum.StrEnum):
    RESOLVE_ALL = "resolve_all"
    SEARCH = "search"
    STREAM = "stream"
    MEASURE = "measure"
    PAGE = "page"  # the text of a public page or API answer (a music site's metadata), not a track


@dataclass(frozen=True, slots=True)
class ExtractJob:
    kind: JobKind
    text: str  # a URL, or (for words) the full yt-dlp search query such as "ytsearch5:words"
    is_url: bool
    policy: UrlPolicy
    config: ExtractorConfig
    requester_id: int | None = None
    limit: int = 1  # most tracks to return
    stream: Stream | None = None  # MEASURE: the media URL a resolve found, instead of a new lookup


@dataclass(frozen=True, slots=True)
class JobFailure:
    """A BrentError as data, re-raised on the event-loop side."""

    error_type: type[BrentError]
    user_message: str
    detail: str

    @classmethod
    def of(cls, error: BrentError) -> JobFailure:
        return cls(type(error), error.user_message, str(error))

    def to_error(self) -> BrentError:
        return self.error_type(self.user_message, detail=self.detail)


@dataclass(frozen=True, slots=True)
class JobResult:
    tracks: tuple[Track, ...] = ()
    stream: Stream | None = None
    duration: float | None = None  # MEASURE: what ffprobe said, None when it could not tell
    live: bool = False  # MEASURE: no length, and the server calls itself a radio station (icy-* headers)
    page: str | None = None  # PAGE: the answer's text
    failure: JobFailure | None = None


def run_job(job: ExtractJob) -> JobResult:
    """The blocking half of every Extractor call; safe to run in a thread or another process."""
    try:
        return _run(job)
    except BrentError as exc:
        return JobResult(failure=JobFailure.of(exc))
    except (DownloadError, ExtractorError) as exc:
        return JobResult(failure=JobFailure.of(error_from_ytdlp(exc)))
    except Exception as exc:  # noqa: BLE001  (a bug or yt-dlp oddity must not kill the worker)
        log.exception("unexpected failure in an extractor job (%s)", job.kind)
        return JobResult(failure=JobFailure(ExtractionError, MSG_GENERIC, f"{type(exc).__name__}: {exc}"))


def _run(job: ExtractJob) -> JobResult:
    config = job.config
    if job.is_url:
        job.policy.check_user_url(job.text)
    if job.kind is JobKind.MEASURE and job.stream is not None:
        return _measured(job, job.stream)
    with worker_ytdl(config).job() as ydl:
        if job.kind is JobKind.PAGE:
            return JobResult(page=_page(ydl, job))
        if job.kind in (JobKind.STREAM, JobKind.MEASURE):
            info = _media_info(ydl, job, job.text)
            stream = stream_from_info(info)
            job.policy.check_media_url(stream.url)
            if job.kind is JobKind.MEASURE:
                return _measured(job, stream)
            return JobResult(stream=stream)

        info = _extract(ydl, job.text)
        require_direct_file(info)
        limit = max(1, min(job.limit, config.playlist_limit))
        tracks = tracks_from_info(info, limit=limit, requester_id=job.requester_id)
        if not tracks:
            raise NothingFound(MSG_NOTHING, detail=f"{job.kind}: no playable entries")
        if info.get("entries") is not None:
            return JobResult(tracks=tuple(tracks))
        return JobResult(tracks=tuple(tracks), stream=_checked_stream(info, job))


def _page(ydl: yt_dlp.YoutubeDL, job: ExtractJob) -> str:
    """A page's text through the egress gate (address rules; the caller chose the site)."""
    job.policy.check_media_url(job.text)
    try:
        with ydl.urlopen(job.text) as response:
            data = response.read(MAX_PAGE_BYTES + 1)
    except HTTPError as exc:
        if exc.status == 404:
            raise NothingFound(MSG_NOTHING, detail="page: 404") from None
        raise ExtractionError(MSG_UNREACHABLE, detail=f"page: HTTP {exc.status}") from None
    except RequestError as exc:
        raise ExtractionError(MSG_UNREACHABLE, detail=f"page: {exc}") from None
    if len(data) > MAX_PAGE_BYTES:
        raise ExtractionError(MSG_TOO_LARGE, detail=f"page over {MAX_PAGE_BYTES} bytes")
    return str(data.decode("utf-8", errors="replace"))


def _extract(ydl: yt_dlp.YoutubeDL, url: str) -> dict[str, Any]:
    info = ydl.extract_info(url, download=False)
    if not isinstance(info, dict):
        raise NothingFound(MSG_NOTHING, detail="yt-dlp returned no info")
    return info


def _media_info(ydl: yt_dlp.YoutubeDL, job: ExtractJob, url: str) -> dict[str, Any]:
    """A fully processed single-track info dict (playlist pages give their first entry)."""
    info = _extract(ydl, url)
    if info.get("entries") is not None or info.get("_type") in ("url", "url_transparent"):
        entries = playable_entries(info, 1) if info.get("entries") is not None else [info]
        if not entries:
            raise NothingFound(MSG_NOTHING, detail="playlist without playable entries")
        entry_url = web_url(entries[0].get("url")) or web_url(entries[0].get("webpage_url"))
        if entry_url is None:
            raise NothingFound(MSG_NOTHING, detail="first entry has no url")
        job.policy.check_user_url(entry_url)
        info = _extract(ydl, entry_url)
    require_direct_file(info)
    return info


def _checked_stream(info: Mapping[str, Any], job: ExtractJob) -> Stream | None:
    """The media URL of a single-track answer, handed back so playback needs no second lookup.

    None when there is none or the policy refuses it: then :meth:`Extractor.stream` looks again
    and reports the refusal when the track is about to play.
    """
    try:
        stream = stream_from_info(info)
        job.policy.check_media_url(stream.url)
    except BrentError as exc:
        log.debug("no stream handed back with the track: %s", exc)
        return None
    return stream


def _measured(job: ExtractJob, stream: Stream) -> JobResult:
    """ffprobe's length of a direct file, or whether it is a radio station; the policy sees the URL
    first, even one a resolve checked."""
    if not job.config.ffprobe:
        return JobResult()
    job.policy.check_media_url(stream.url)
    if not job.config.media_proxy:
        log.warning("not measuring a direct file: no egress proxy to fetch it through")
        return JobResult()
    probe = probe_stream(
        job.config.ffprobe, stream.url, stream.http_headers, _probe_budget(job.config), proxy=job.config.media_proxy
    )
    return JobResult(duration=probe.duration, live=probe.duration is None and probe.radio)


def _probe_budget(config: ExtractorConfig) -> float:
    return max(1.0, min(10.0, config.timeout / 3))  # leave time for the rest of the lookup


@dataclass(frozen=True, slots=True)
class Probe:
    duration: float | None  # None: ffprobe could not tell (an endless stream, a failure)
    radio: bool  # the server sent icy-* headers (Icecast, SHOUTcast)


def probe_stream(ffprobe: str, url: str, headers: Mapping[str, str], timeout: float, *, proxy: str) -> Probe:
    """Ask ffprobe how long a direct file is (yt-dlp's generic extractor does not say), and whether
    the server is a radio station, in one request.

    ``proxy`` is the egress proxy's media URL: ffprobe connects nowhere by itself.
    """
    try:
        done = subprocess.run(
            _probe_command(ffprobe, url, headers, timeout), capture_output=True, text=True, timeout=timeout,
            check=False, env=ffmpeg_environment(proxy),
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.info("ffprobe could not measure a direct file: %s", exc)
        return Probe(None, False)
    lines = done.stdout.splitlines()
    duration = next((_parse_duration(line[len("duration="):]) for line in lines if line.startswith("duration=")), None)
    return Probe(duration, any(line.lower().startswith("tag:icy-") for line in lines))


def probe_duration(ffprobe: str, url: str, headers: Mapping[str, str], timeout: float, *, proxy: str) -> float | None:
    """Only the length (:func:`probe_stream`)."""
    return probe_stream(ffprobe, url, headers, timeout, proxy=proxy).duration


def _probe_command(ffprobe: str, url: str, headers: Mapping[str, str], timeout: float) -> list[str]:
    # Only direct files are measured: the audio containers, never a playlist behind them.
    cmd = [
        ffprobe, "-v", "error", "-protocol_whitelist", PROTOCOL_WHITELIST, "-format_whitelist", AUDIO_DEMUXERS,
        "-rw_timeout", str(int(timeout * 1_000_000)),
        "-show_entries", "format=duration:format_tags", "-of", "default=nw=1",
    ]
    if block := header_block(headers):
        cmd += ["-headers", block]
    return [*cmd, "-i", url]


def _parse_duration(out: str) -> float | None:
    try:
        seconds = float(out.strip().splitlines()[0])
    except (ValueError, IndexError):
        return None
    return seconds if math.isfinite(seconds) and seconds > 0 else None
