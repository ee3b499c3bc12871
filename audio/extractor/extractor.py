"""The one yt-dlp wrapper: user text in, frozen :class:`Track` / :class:`Stream` out.

Nothing else in BRENT imports yt-dlp or reads its info dicts; :func:`track_from_info` is the edge
where they become typed values. Every call runs the blocking work in an executor under
``asyncio.wait_for`` (plus yt-dlp's own ``socket_timeout``), and every link passes the
:class:`UrlPolicy` before yt-dlp or FFmpeg fetches it.

The blocking job (:func:`run_job`) is a module-level function of one picklable argument and returns
a picklable result (errors travel as data, since ``BrentError`` does not survive pickling), so a
``ProcessPoolExecutor`` can replace the default thread pool.

Stream URLs expire (about 6 h on YouTube) and embed the host's IP, so tracks carry only the page
URL and :meth:`Extractor.stream` fetches a fresh media URL right before playback.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import enum
import functools
import logging
import math
import posixpath
import re
import shutil
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import validators
import yt_dlp
from yt_dlp.compat import urllib_req_to_req
from yt_dlp.networking.common import Request as YtdlRequest
from yt_dlp.utils import DownloadError, ExtractorError, GeoRestrictedError, UnsupportedError

from audio.egress_proxy import ClientKind, EgressProxy, ffmpeg_environment
from audio.errors import BrentError, ExtractionError, ExtractionTimeout, NothingFound, UrlRefused
from audio.lookup_gate import LookupGate, Priority
from audio.timed_audio import AUDIO_DEMUXERS, PROTOCOL_WHITELIST
from audio.track import Provider, Stream, Track
from audio.url_policy import UrlPolicy, provider_for
from audio.worker_pool import ExecutorMode, WorkerPoolExecutor, default_workers, make_executor

log = logging.getLogger(__name__)

MAX_QUERY_LENGTH = 300
# Most bytes read from one web page or API answer; YouTube's largest (its player script) is ~3 MB.
MAX_RESPONSE_BYTES = 16 * 1024 * 1024
DEADLINE_GRACE = 2.0  # a worker still busy this long after a lookup's timeout is killed
MAX_SEARCH_RESULTS = 25
_UNPLAYABLE_TITLES = frozenset({"[private video]", "[deleted video]", "[unavailable video]"})
_SCHEME_PREFIX = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")
# FFmpeg protocol and other non-web schemes written without "//" (concat:a|b, data:..., file:/x):
# they count as links so the policy refuses them, instead of becoming search words.
_PROTOCOL_PREFIX = re.compile(
    r"^(?:file|data|concatf?|subfile|pipe|cache|crypto|fd|javascript|ftp|sftp|gopher|rtmp\w*|rtsp|rtp|srt|udp|"
    r"tcp|tls|hls|async|httpproxy|unix|zmq|smb|mmsh?|icecast|ipfs|ipns|bluray|sctp|android_content)[:,]",
    re.IGNORECASE,
)
_LOCAL_PATH = re.compile(r"^(?:/|~|\.{1,2}[/\\]|[A-Za-z]:[/\\]|\\\\)")

# yt-dlp extractor names (regexes, full match). "generic" is only added when DIRECT links are
# allowed, and then only its direct-file result is accepted (see _require_direct_file).
_PROVIDER_EXTRACTORS: dict[Provider, tuple[str, ...]] = {
    Provider.YOUTUBE: (r"youtube", r"youtube:(tab|playlist|search|search_url|music:search_url|clip|shorts:.*)"),
    Provider.SOUNDCLOUD: (r"soundcloud(:.+)?",),
    Provider.BANDCAMP: (r"bandcamp(:.+)?",),
    Provider.DIRECT: (r"generic",),
}

MSG_GENERIC = "I couldn't load that track."
MSG_NOTHING = "I found nothing playable for that."
MSG_TIMEOUT = "Looking that up took too long; try again or try another link."
MSG_BOT_CHECK = "YouTube is refusing this host (bot check); try a SoundCloud or direct link."
MSG_PRIVATE = "That video is private."
MSG_AGE = "That video is age-restricted and the bot can't sign in to play it."
MSG_GEO = "That track isn't available in the bot's country."
MSG_UNSUPPORTED = "I can't play that link; try YouTube, SoundCloud, Bandcamp or a direct audio file."
MSG_UNAVAILABLE = "That track is unavailable (removed, or it never existed)."
MSG_NOT_STARTED = "That live stream hasn't started yet."
MSG_DRM = "That track is DRM-protected, so I can't play it."
MSG_NO_AUDIO = "I couldn't find an audio stream for that track."
MSG_NOT_AUDIO_FILE = "That link isn't an audio file I can play."
MSG_FORBIDDEN = "The site refused to hand over that track."
MSG_UNREACHABLE = "I couldn't reach that site."
MSG_TOO_LARGE = "That page is far too large to be a track."
MSG_MEMBERS = "That video is for channel members only."
MSG_EMPTY = "Give me a link or some words to search for."
MSG_QUERY_TOO_LONG = "That search is too long."
MSG_CLOSED = "The extractor is shut down."
MSG_LOCAL_PATH = "I only play links from the web, not files on the bot's computer."

# (needle in yt-dlp's lower-cased error text, error class, user message): first match wins.
_ERROR_RULES: tuple[tuple[str, type[ExtractionError], str], ...] = (
    ("confirm you're not a bot", ExtractionError, MSG_BOT_CHECK),
    ("confirm you\u2019re not a bot", ExtractionError, MSG_BOT_CHECK),
    ("not a bot", ExtractionError, MSG_BOT_CHECK),
    ("confirm your age", ExtractionError, MSG_AGE),
    ("age-restricted", ExtractionError, MSG_AGE),
    ("age restricted", ExtractionError, MSG_AGE),
    ("channel's members", ExtractionError, MSG_MEMBERS),
    ("members-only", ExtractionError, MSG_MEMBERS),
    ("private video", ExtractionError, MSG_PRIVATE),
    ("video is private", ExtractionError, MSG_PRIVATE),
    ("available in your country", ExtractionError, MSG_GEO),
    ("not available from your location", ExtractionError, MSG_GEO),
    ("geo restrict", ExtractionError, MSG_GEO),
    ("geo-restrict", ExtractionError, MSG_GEO),
    ("unsupported url", ExtractionError, MSG_UNSUPPORTED),
    ("no suitable extractor", ExtractionError, MSG_UNSUPPORTED),
    ("drm protected", ExtractionError, MSG_DRM),
    ("drm-protected", ExtractionError, MSG_DRM),
    ("live event will begin", ExtractionError, MSG_NOT_STARTED),
    ("premieres in", ExtractionError, MSG_NOT_STARTED),
    ("requested format is not available", ExtractionError, MSG_NO_AUDIO),
    ("timed out", ExtractionTimeout, MSG_TIMEOUT),
    # The egress proxy answers every refused or failed connection with the same 502, so a refused
    # internal address and a closed port read alike.
    ("502: bad gateway", ExtractionError, MSG_UNREACHABLE),
    ("502 bad gateway", ExtractionError, MSG_UNREACHABLE),
    ("unable to connect to proxy", ExtractionError, MSG_UNREACHABLE),
    ("http error 403", ExtractionError, MSG_FORBIDDEN),
    ("connection refused", ExtractionError, MSG_UNREACHABLE),
    ("name or service not known", ExtractionError, MSG_UNREACHABLE),
    ("nodename nor servname", ExtractionError, MSG_UNREACHABLE),
    ("temporary failure in name resolution", ExtractionError, MSG_UNREACHABLE),
    ("video unavailable", ExtractionError, MSG_UNAVAILABLE),
    ("has been removed", ExtractionError, MSG_UNAVAILABLE),
    ("http error 404", ExtractionError, MSG_UNAVAILABLE),
    ("does not exist", ExtractionError, MSG_UNAVAILABLE),
    ("unable to download webpage", ExtractionError, MSG_UNAVAILABLE),
)


class JobKind(enum.StrEnum):
    RESOLVE = "resolve"
    RESOLVE_ALL = "resolve_all"
    SEARCH = "search"
    STREAM = "stream"
    MEASURE = "measure"


@dataclass(frozen=True, slots=True)
class ExtractorConfig:
    """Everything the worker needs to build the one yt-dlp options dict; picklable."""

    timeout: float = 30.0
    playlist_limit: int = 100
    search_provider: str = "ytsearch"
    allowed_extractors: tuple[str, ...] = ()
    ffprobe: str | None = None
    # The egress proxy's URLs (audio/egress_proxy.py); without them nothing is fetched at all.
    lookup_proxy: str | None = field(default=None, repr=False)
    media_proxy: str | None = field(default=None, repr=False)


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
    failure: JobFailure | None = None


class _YtdlLogger:
    """Routes yt-dlp's chatter into our logging; its errors are re-reported by us, so debug only."""

    def debug(self, msg: str) -> None:
        log.debug("yt-dlp: %s", msg)

    def info(self, msg: str) -> None:
        log.debug("yt-dlp: %s", msg)

    def warning(self, msg: str) -> None:
        log.info("yt-dlp warning: %s", msg)

    def error(self, msg: str) -> None:
        log.debug("yt-dlp error: %s", msg)


def allowed_extractors_for(providers: Iterable[Provider]) -> tuple[str, ...]:
    """yt-dlp extractor allowlist matching the policy's providers; generic last (it matches anything)."""
    chosen = set(providers)
    names: list[str] = []
    for provider in (Provider.YOUTUBE, Provider.SOUNDCLOUD, Provider.BANDCAMP, Provider.DIRECT):
        if provider in chosen:
            names.extend(_PROVIDER_EXTRACTORS[provider])
    return tuple(names)


def ytdl_options(config: ExtractorConfig) -> dict[str, Any]:
    """The one YoutubeDL options dict (security.md 1): minimal features, nothing that runs or writes."""
    return {
        "proxy": config.lookup_proxy,
        "format": "bestaudio/best",
        "quiet": True,
        "no_warnings": False,
        "noprogress": True,
        "logger": _YtdlLogger(),
        "default_search": "ytsearch",
        "extract_flat": "in_playlist",
        "noplaylist": True,
        "playlistend": config.playlist_limit,
        "lazy_playlist": False,
        "socket_timeout": max(1.0, min(config.timeout, 15.0)),
        "retries": 1,
        "extractor_retries": 1,
        "allowed_extractors": list(config.allowed_extractors) or ["youtube"],
        "enable_file_urls": False,
        "nocheckcertificate": False,
        "cookiefile": None,
        "cookiesfrombrowser": None,
        "usenetrc": False,
        "external_downloader": None,
        "skip_download": True,
        "writesubtitles": False,
        "writeautomaticsub": False,
        "writethumbnail": False,
        "postprocessors": [],
        "ignoreerrors": False,
    }


class _GuardedYoutubeDL(yt_dlp.YoutubeDL):
    """Sends every request yt-dlp makes through the egress proxy, and reads bounded answers.

    The proxy checks each connection's address (redirect hops included); here every request is
    pinned to it, whatever an extractor or a smuggled ``Ytdl-request-proxy`` header asked for, and no
    answer is read past :data:`MAX_RESPONSE_BYTES`. One instance serves many jobs (see
    :func:`_worker_ytdl`): outside :meth:`job` every request is refused.
    """

    def __init__(self, params: dict[str, Any]) -> None:
        super().__init__(params)
        self._in_job = False

    @contextlib.contextmanager
    def job(self) -> Iterator[_GuardedYoutubeDL]:
        """Run one job on this instance; nothing of the last job's stays."""
        self._forget_previous_job()
        self._in_job = True
        try:
            yield self
        finally:
            self._in_job = False

    def _forget_previous_job(self) -> None:
        # Per-extraction state of YoutubeDL.__init__; extractor instances (and their caches of
        # player code or client ids) are kept on purpose: they are the point of reusing.
        self.cookiejar.clear()
        self._YoutubeDL__header_cookies: list[Any] = []
        self._printed_messages.clear()
        self._playlist_level = 0
        self._playlist_urls.clear()
        self._num_downloads = 0
        self._num_videos = 0
        self._download_retcode = 0

    def urlopen(self, req: Any) -> Any:
        proxy = self.params.get("proxy")
        if not self._in_job or not proxy:
            raise UrlRefused(MSG_GENERIC, detail="yt-dlp request outside a job or without the egress proxy")
        if isinstance(req, str):
            req = YtdlRequest(req)
        elif not isinstance(req, YtdlRequest):
            req = urllib_req_to_req(req)
        for name in list(req.headers):
            if name.lower() == "ytdl-request-proxy":
                del req.headers[name]
        req.proxies = {"all": proxy}
        response = super().urlopen(req)
        _cap_reads(response, MAX_RESPONSE_BYTES)
        return response


def _cap_reads(response: Any, limit: int) -> None:
    """Make ``response.read`` fail once more than ``limit`` bytes were asked of it in all.

    yt-dlp reads whole pages into memory (and copies them a few times while decoding): a 200 MB
    "web page" took a worker past a gigabyte before this.
    """
    original = response.read
    taken = 0

    def read(amt: int | None = None) -> bytes:
        nonlocal taken
        if amt is None or amt < 0:
            chunks: list[bytes] = []
            while chunk := read(1024 * 1024):
                chunks.append(chunk)
            return b"".join(chunks)
        data: bytes = original(min(amt, limit - taken + 1))
        taken += len(data)
        if taken > limit:
            response.close()
            raise ExtractionError(MSG_TOO_LARGE, detail=f"response over {limit} bytes")
        return data

    response.read = read


_WORKER_CACHE_SIZE = 4
_worker_state = threading.local()


def _worker_ytdl(config: ExtractorConfig) -> _GuardedYoutubeDL:
    """This thread's YoutubeDL for ``config``, built on first use.

    A new YoutubeDL costs ~30 ms (its TLS context loads the CA bundle on the first request, even
    for http://); a reused one extracts a direct file in ~5 ms. The options depend only on
    ``config``, the policy is set per job. Thread-local, so it also holds in a process-pool worker
    (one per process) and a SUBPROCESS child (used once).
    """
    cache: dict[ExtractorConfig, _GuardedYoutubeDL] | None = getattr(_worker_state, "ytdls", None)
    if cache is None:
        cache = _worker_state.ytdls = {}
    ydl = cache.get(config)
    if ydl is None:
        while len(cache) >= _WORKER_CACHE_SIZE:
            cache.pop(next(iter(cache))).close()
        ydl = cache[config] = _GuardedYoutubeDL(ytdl_options(config))
    return ydl


def warm_worker(config: ExtractorConfig) -> None:
    """Build this worker's YoutubeDL for ``config`` (the one its jobs will use) ahead of a lookup."""
    _worker_ytdl(config)


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return None


def _web_url(value: Any) -> str | None:
    text = _text(value)
    if text and text.lower().startswith(("http://", "https://")):
        return text
    return None


def _duration(info: Mapping[str, Any]) -> float | None:
    if info.get("is_live") is True or info.get("live_status") in ("is_live", "is_upcoming"):
        return None
    value = info.get("duration")
    if isinstance(value, bool) or value is None:
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return seconds if math.isfinite(seconds) and seconds > 0 else None


def _thumbnail(info: Mapping[str, Any]) -> str | None:
    direct = _web_url(info.get("thumbnail"))
    if direct:
        return direct
    thumbnails = info.get("thumbnails")
    if not isinstance(thumbnails, list):
        return None
    best: tuple[tuple[float, float, int], str] | None = None
    for index, thumb in enumerate(thumbnails):
        if not isinstance(thumb, Mapping):
            continue
        url = _web_url(thumb.get("url"))
        if not url:
            continue
        width, height = thumb.get("width"), thumb.get("height")
        area = float(width * height) if isinstance(width, int) and isinstance(height, int) else 0.0
        preference = thumb.get("preference")
        rank = (float(preference) if isinstance(preference, int | float) else 0.0, area, index)
        if best is None or rank > best[0]:
            best = (rank, url)
    return best[1] if best else None


def _uploader(info: Mapping[str, Any]) -> str | None:
    for key in ("uploader", "channel", "artist", "creator"):
        found = _text(info.get(key))
        if found:
            return found
    for key in ("artists", "creators"):
        values = info.get(key)
        if isinstance(values, list) and values and _text(values[0]):
            return _text(values[0])
    return None


def _provider(info: Mapping[str, Any], page_url: str) -> Provider:
    key = (_text(info.get("extractor_key")) or _text(info.get("ie_key")) or "").lower()
    for prefix, provider in (
        ("youtube", Provider.YOUTUBE),
        ("soundcloud", Provider.SOUNDCLOUD),
        ("bandcamp", Provider.BANDCAMP),
        ("generic", Provider.DIRECT),
    ):
        if key.startswith(prefix):
            return provider
    parts = urllib.parse.urlsplit(page_url)
    return provider_for(parts.hostname or "", parts.path)


def _fallback_title(page_url: str, info: Mapping[str, Any]) -> str:
    path = urllib.parse.unquote(urllib.parse.urlsplit(page_url).path).rstrip("/")
    name = posixpath.basename(path)
    return name or _text(info.get("id")) or page_url


def track_from_info(info: Mapping[str, Any], *, requester_id: int | None = None) -> Track:
    """Normalise one yt-dlp info dict (full, flat playlist entry or search hit) into a Track.

    Raises ExtractionError when the dict has no web page URL to re-resolve later.
    """
    page_url = _web_url(info.get("webpage_url")) or _web_url(info.get("original_url")) or _web_url(info.get("url"))
    if page_url is None:
        raise ExtractionError(MSG_GENERIC, detail=f"info without a page url (id={info.get('id')!r})")
    title = _text(info.get("title")) or _text(info.get("fulltitle")) or _fallback_title(page_url, info)
    return Track(
        title=title,
        page_url=page_url,
        duration=_duration(info),
        uploader=_uploader(info),
        thumbnail=_thumbnail(info),
        provider=_provider(info, page_url),
        requester_id=requester_id,
    )


def _expiry(url: str) -> float | None:
    """googlevideo URLs carry ``expire=<unix time>``; SoundCloud CDN URLs ``Expires=``."""
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    for key in ("expire", "Expires", "expires"):
        values = query.get(key)
        if values and values[0].isdigit():
            return float(values[0])
    return None


# yt-dlp's protocols whose media URL is a playlist of segments rather than one file.
_MANIFEST_PROTOCOLS = ("m3u8", "http_dash_segments", "dash")


def stream_from_info(info: Mapping[str, Any]) -> Stream:
    """The media URL yt-dlp selected plus the headers FFmpeg must send, minus any Cookie.

    A playlist (HLS/DASH) is only accepted from a streaming site; a direct link is played as the
    one audio file it claims to be.
    """
    url = _web_url(info.get("url"))
    if url is None:
        requested = info.get("requested_formats")
        if isinstance(requested, list):
            audio = [f for f in requested if isinstance(f, Mapping) and f.get("vcodec") in (None, "none")]
            for fmt in audio or requested:
                if isinstance(fmt, Mapping) and _web_url(fmt.get("url")):
                    return stream_from_info({**info, **fmt, "requested_formats": None})
        raise ExtractionError(MSG_NO_AUDIO, detail=f"no media url for {info.get('id')!r}")
    raw_headers = info.get("http_headers")
    headers: dict[str, str] = {}
    if isinstance(raw_headers, Mapping):
        headers = {
            str(k): str(v)
            for k, v in raw_headers.items()
            if isinstance(k, str) and k.lower() != "cookie" and v is not None
            and "\r" not in str(v) and "\n" not in str(v)
        }
    is_live = info.get("is_live") is True or info.get("live_status") == "is_live"
    protocol = (_text(info.get("protocol")) or "").lower()
    manifest = protocol.startswith(_MANIFEST_PROTOCOLS)
    if manifest and _provider(info, url) in (Provider.DIRECT, Provider.OTHER):
        raise ExtractionError(MSG_NOT_AUDIO_FILE, detail=f"a {protocol} playlist from a direct link")
    return Stream(url=url, http_headers=headers, expires_at=_expiry(url), is_live=is_live, manifest=manifest)


def _playable_entries(info: Mapping[str, Any], limit: int) -> list[Mapping[str, Any]]:
    entries = info.get("entries")
    if entries is None:
        return [info]
    found: list[Mapping[str, Any]] = []
    for entry in entries:
        if len(found) >= limit:
            break
        if not isinstance(entry, Mapping):
            continue
        if (_text(entry.get("title")) or "").lower() in _UNPLAYABLE_TITLES:
            continue
        if entry.get("_type") == "playlist" or entry.get("entries") is not None:
            found.extend(_playable_entries(entry, limit - len(found)))
            continue
        found.append(entry)
    return found[:limit]


def tracks_from_info(info: Mapping[str, Any], *, limit: int, requester_id: int | None = None) -> list[Track]:
    """A playlist's or search's playable entries as Tracks (at most ``limit``), or the one track.

    Private/deleted placeholders and entries without a page URL are skipped, not fatal.
    """
    tracks: list[Track] = []
    for entry in _playable_entries(info, limit):
        try:
            tracks.append(track_from_info(entry, requester_id=requester_id))
        except ExtractionError as exc:
            log.info("skipping an entry yt-dlp returned: %s", exc)
    return tracks


def _require_direct_file(info: Mapping[str, Any]) -> None:
    """The generic extractor is only trusted for plain media files, never for scraping a web page
    (embedded players, smuggled headers, feeds: security.md section 1)."""
    key = (_text(info.get("extractor_key")) or "").lower()
    if key == "generic" and info.get("direct") is not True:
        raise ExtractionError(MSG_NOT_AUDIO_FILE, detail="generic extractor result is not a direct file")


def _probe_command(ffprobe: str, url: str, headers: Mapping[str, str], timeout: float) -> list[str]:
    # Only direct files are measured: the audio containers, never a playlist behind them.
    cmd = [
        ffprobe, "-v", "error", "-protocol_whitelist", PROTOCOL_WHITELIST, "-format_whitelist", AUDIO_DEMUXERS,
        "-rw_timeout", str(int(timeout * 1_000_000)),
        "-show_entries", "format=duration", "-of", "default=nw=1:nk=1",
    ]
    if headers:
        cmd += ["-headers", "".join(f"{k}: {v}\r\n" for k, v in headers.items())]
    return [*cmd, "-i", url]


def _parse_duration(out: str) -> float | None:
    try:
        seconds = float(out.strip().splitlines()[0])
    except (ValueError, IndexError):
        return None
    return seconds if math.isfinite(seconds) and seconds > 0 else None


def probe_duration(
    ffprobe: str, url: str, headers: Mapping[str, str], timeout: float, *, proxy: str
) -> float | None:
    """Ask ffprobe how long a direct file is (yt-dlp's generic extractor does not say).

    ``proxy`` is the egress proxy's media URL: ffprobe connects nowhere by itself.
    """
    try:
        done = subprocess.run(
            _probe_command(ffprobe, url, headers, timeout), capture_output=True, text=True, timeout=timeout,
            check=False, env=ffmpeg_environment(proxy),
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.info("ffprobe could not measure a direct file: %s", exc)
        return None
    return _parse_duration(done.stdout)


def error_from_ytdlp(exc: Exception) -> BrentError:
    """A short user message for a yt-dlp failure; yt-dlp's own text (URLs, IPs) stays in ``detail``."""
    cause: BaseException = exc
    if isinstance(exc, DownloadError) and exc.exc_info and exc.exc_info[1] is not None:
        cause = exc.exc_info[1]
    if isinstance(cause, BrentError):
        return cause
    detail = str(exc)
    if isinstance(cause, GeoRestrictedError):
        return ExtractionError(MSG_GEO, detail=detail)
    if isinstance(cause, UnsupportedError):
        return ExtractionError(MSG_UNSUPPORTED, detail=detail)
    lowered = detail.lower()
    for needle, error_type, message in _ERROR_RULES:
        if needle in lowered:
            return error_type(message, detail=detail)
    return ExtractionError(MSG_GENERIC, detail=detail)


def _extract(ydl: yt_dlp.YoutubeDL, url: str) -> dict[str, Any]:
    info = ydl.extract_info(url, download=False)
    if not isinstance(info, dict):
        raise NothingFound(MSG_NOTHING, detail="yt-dlp returned no info")
    return info


def _media_info(ydl: yt_dlp.YoutubeDL, job: ExtractJob, url: str) -> dict[str, Any]:
    """A fully processed single-track info dict (playlist pages give their first entry)."""
    info = _extract(ydl, url)
    if info.get("entries") is not None or info.get("_type") in ("url", "url_transparent"):
        entries = _playable_entries(info, 1) if info.get("entries") is not None else [info]
        if not entries:
            raise NothingFound(MSG_NOTHING, detail="playlist without playable entries")
        entry_url = _web_url(entries[0].get("url")) or _web_url(entries[0].get("webpage_url"))
        if entry_url is None:
            raise NothingFound(MSG_NOTHING, detail="first entry has no url")
        job.policy.check_user_url(entry_url)
        info = _extract(ydl, entry_url)
    _require_direct_file(info)
    return info


def _run(job: ExtractJob) -> JobResult:
    config = job.config
    if job.is_url:
        job.policy.check_user_url(job.text)
    if job.kind is JobKind.MEASURE and job.stream is not None:
        return JobResult(duration=_measure(job, job.stream))
    with _worker_ytdl(config).job() as ydl:
        if job.kind in (JobKind.STREAM, JobKind.MEASURE):
            info = _media_info(ydl, job, job.text)
            stream = stream_from_info(info)
            job.policy.check_media_url(stream.url)
            if job.kind is JobKind.MEASURE:
                return JobResult(duration=_measure(job, stream))
            return JobResult(stream=stream)

        info = _extract(ydl, job.text)
        _require_direct_file(info)
        limit = max(1, min(job.limit, config.playlist_limit))
        tracks = tracks_from_info(info, limit=limit, requester_id=job.requester_id)
        if not tracks:
            raise NothingFound(MSG_NOTHING, detail=f"{job.kind}: no playable entries")
        if info.get("entries") is not None:
            return JobResult(tracks=tuple(tracks))
        return JobResult(tracks=tuple(tracks), stream=_checked_stream(info, job))


def _probe_budget(config: ExtractorConfig) -> float:
    return max(1.0, min(10.0, config.timeout / 3))  # leave time for the rest of the lookup


def _measure(job: ExtractJob, stream: Stream) -> float | None:
    """ffprobe's length of a direct file; the policy sees the URL first, even one a resolve checked."""
    if not job.config.ffprobe:
        return None
    job.policy.check_media_url(stream.url)
    if not job.config.media_proxy:
        log.warning("not measuring a direct file: no egress proxy to fetch it through")
        return None
    return probe_duration(
        job.config.ffprobe, stream.url, stream.http_headers, _probe_budget(job.config), proxy=job.config.media_proxy
    )


def _checked_stream(info: Mapping[str, Any], job: ExtractJob) -> Stream | None:
    """The media URL of a single-track answer, handed back so playback needs no second lookup.

    None when there is none or the policy refuses it: then :meth:`Extractor.stream` looks again
    and reports the refusal when the track is about to play, as before.
    """
    try:
        stream = stream_from_info(info)
        job.policy.check_media_url(stream.url)
    except BrentError as exc:
        log.debug("no stream handed back with the track: %s", exc)
        return None
    return stream


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


HANDED_STREAM_FRESHNESS = 60.0  # seconds a Stream found by a resolve may stand in for a new lookup
HANDED_STREAM_EXPIRY_MARGIN = 300.0  # and only while its URL has at least this long left to live
_HANDED_STREAM_LIMIT = 64


def _unwrap_angle_brackets(text: str) -> str:
    """Discord users write ``<https://...>`` to suppress the embed."""
    if len(text) > 2 and text.startswith("<") and text.endswith(">"):
        return text[1:-1].strip()
    return text


def _shelve(shelf: dict[str, tuple[float, Stream]], page_url: str, stream: Stream) -> None:
    """Keep ``stream`` for ``page_url`` a short while; drops stale entries and keeps the shelf small."""
    now = time.monotonic()
    for url, (found, _) in list(shelf.items()):
        if now - found > HANDED_STREAM_FRESHNESS:
            del shelf[url]
    shelf.pop(page_url, None)
    while len(shelf) >= _HANDED_STREAM_LIMIT:
        del shelf[next(iter(shelf))]
    shelf[page_url] = (now, stream)


def _take_fresh(shelf: dict[str, tuple[float, Stream]], page_url: str) -> Stream | None:
    """The shelved Stream for ``page_url`` if still fresh (used once); stream URLs expire."""
    entry = shelf.pop(page_url, None)
    if entry is None:
        return None
    found, stream = entry
    if time.monotonic() - found > HANDED_STREAM_FRESHNESS:
        return None
    if stream.expires_at is not None and stream.expires_at - time.time() < HANDED_STREAM_EXPIRY_MARGIN:
        return None
    return stream


class Extractor:
    """Turns user text into Tracks and Tracks into fresh Streams, off the event loop.

    Owns an executor made by :func:`make_executor` in ``mode`` (see :class:`ExecutorMode`) unless
    ``executor`` is given; a given executor is not shut down by :meth:`close`. Every fetch of a
    lookup goes through ``egress`` (one is made from ``policy`` and owned when none is given). At most
    one job per worker runs; playback jobs go before members' lookups, and past ``max_waiting``
    waiting lookups a member is told the bot is busy.
    """

    def __init__(
        self,
        *,
        policy: UrlPolicy,
        timeout: float = 30.0,
        playlist_limit: int = 100,
        search_provider: str = "ytsearch",
        executor: concurrent.futures.Executor | None = None,
        ffprobe: str | None = None,
        mode: ExecutorMode | str = ExecutorMode.THREAD,
        workers: int | None = None,
        egress: EgressProxy | None = None,
        max_waiting: int = 8,
    ) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        if playlist_limit < 1:
            raise ValueError("playlist_limit must be at least 1")
        if not re.fullmatch(r"[a-z]+search", search_provider):
            raise ValueError("search_provider must look like 'ytsearch' or 'scsearch'")
        self.policy = policy
        self.timeout = timeout
        self.playlist_limit = playlist_limit
        self.search_provider = search_provider
        self.mode = ExecutorMode(mode)
        self._owns_egress = egress is None
        self.egress = egress if egress is not None else EgressProxy(policy, lookup_lifetime=timeout)
        self._owns_executor = executor is None
        workers = workers or default_workers()
        self._executor = executor or make_executor(self.mode, workers, job_timeout=timeout + DEADLINE_GRACE)
        self._gate = LookupGate(workers, max_waiting=max_waiting)
        self._config = ExtractorConfig(
            timeout=timeout,
            playlist_limit=playlist_limit,
            search_provider=search_provider,
            allowed_extractors=allowed_extractors_for(policy.allowed_providers),
            ffprobe=ffprobe or shutil.which("ffprobe"),
        )
        self._closed = False
        # page_url -> (monotonic time found, stream): one for the first stream(), one for measure()
        self._handed: dict[str, tuple[float, Stream]] = {}
        self._to_measure: dict[str, tuple[float, Stream]] = {}

    @staticmethod
    def is_url(text: str) -> bool:
        """Links (even ones the policy will refuse, like ``file://``) versus search words."""
        text = _unwrap_angle_brackets(text.strip())
        if not text or any(c.isspace() for c in text):
            return False
        if _SCHEME_PREFIX.match(text) or _PROTOCOL_PREFIX.match(text):
            return True
        return bool(validators.url(text, simple_host=True))

    async def resolve(self, text: str, *, requester_id: int | None = None) -> Track:
        """One track: the link's track (a playlist link gives its first entry) or the first search hit."""
        tracks = await self._tracks(JobKind.RESOLVE, text, 1, 1, requester_id)
        return tracks[0]

    async def resolve_all(self, text: str, *, requester_id: int | None = None) -> list[Track]:
        """A playlist link's entries (at most ``playlist_limit``), or the one track."""
        return await self._tracks(JobKind.RESOLVE_ALL, text, 1, self.playlist_limit, requester_id)

    async def search(self, text: str, n: int = 5, *, requester_id: int | None = None) -> list[Track]:
        """Up to ``n`` search hits; a link gives its track (or a playlist's first ``n``)."""
        n = max(1, min(n, MAX_SEARCH_RESULTS, self.playlist_limit))
        return await self._tracks(JobKind.SEARCH, text, n, n, requester_id)

    async def stream(self, track: Track) -> Stream:
        """A fresh media URL for ``track``, checked by the policy before FFmpeg may touch it.

        Right after a single-track resolve this is the Stream that resolve found (already checked,
        at most :data:`HANDED_STREAM_FRESHNESS` old, used once); otherwise a new lookup.
        """
        handed = self._take_handed_stream(track.page_url)
        if handed is not None:
            return handed
        result = await self._submit(
            ExtractJob(JobKind.STREAM, track.page_url, True, self.policy, self._config, track.requester_id),
            Priority.PLAYBACK,
        )
        assert result.stream is not None
        return result.stream

    def needs_measuring(self, track: Track) -> bool:
        """A direct file whose length yt-dlp did not give (it never does), while ffprobe is at hand."""
        return track.provider is Provider.DIRECT and track.duration is None and bool(self._config.ffprobe)

    async def measure(self, track: Track) -> Track:
        """``track`` with its duration measured by ffprobe, or ``track`` itself when there is nothing
        to measure or it cannot be measured (a live radio stream has no length; a lookup failed).

        Resolves return direct files without a duration so that playback need not wait for a
        process start; this is the second half, for callers to run once the track is playing.
        """
        if not self.needs_measuring(track):
            return track
        stream = _take_fresh(self._to_measure, track.page_url)
        job = ExtractJob(
            JobKind.MEASURE, track.page_url, True, self.policy, self._config, track.requester_id, stream=stream
        )
        try:
            result = await self._submit(job, Priority.PLAYBACK)
        except BrentError as exc:
            log.info("could not measure a direct file (%s): %s", type(exc).__name__, exc)
            return track
        if result.duration is None:
            return track
        return dataclasses.replace(track, duration=result.duration)

    async def warm_up(self) -> None:
        """Start a PROCESS pool's workers now and build in each what a first lookup would (about a
        second of CPU each: an interpreter, yt-dlp's import, a YoutubeDL), so the first lookups
        after start-up do not pay for it inside their timeout. THREAD mode builds its YoutubeDL
        lazily per thread; SUBPROCESS pays it on every lookup by design."""
        executor = self._executor
        if self._closed or not isinstance(executor, WorkerPoolExecutor):
            return
        warm = functools.partial(warm_worker, self._job_config())
        await asyncio.to_thread(executor.start_workers, warm)

    def close(self) -> None:
        """Stop accepting work; running lookups are killed (process modes) or cut off by the proxy."""
        self._closed = True
        if self._owns_executor:
            self._executor.shutdown(wait=False, cancel_futures=True)
        if self._owns_egress:
            self.egress.close()

    async def _tracks(
        self, kind: JobKind, text: str, n: int, limit: int, requester_id: int | None
    ) -> list[Track]:
        """``n`` is how many hits to ask the search for, ``limit`` how many tracks to keep."""
        text = _unwrap_angle_brackets(text.strip())
        if not text:
            raise NothingFound(MSG_EMPTY)
        if _LOCAL_PATH.match(text):
            raise UrlRefused(MSG_LOCAL_PATH, detail="local path")
        if self.is_url(text):
            job = ExtractJob(kind, text, True, self.policy, self._config, requester_id, limit)
        else:
            if len(text) > MAX_QUERY_LENGTH:
                raise ExtractionError(MSG_QUERY_TOO_LONG, detail=f"query of {len(text)} chars")
            query = f"{self.search_provider}{n}:{text}"
            job = ExtractJob(kind, query, False, self.policy, self._config, requester_id, limit)
        result = await self._submit(job, Priority.LOOKUP)
        if result.stream is not None and len(result.tracks) == 1:
            self._hand_over(result.tracks[0].page_url, result.stream)
            if self.needs_measuring(result.tracks[0]):
                _shelve(self._to_measure, result.tracks[0].page_url, result.stream)
        return list(result.tracks)

    def _hand_over(self, page_url: str, stream: Stream) -> None:
        _shelve(self._handed, page_url, stream)

    def _take_handed_stream(self, page_url: str) -> Stream | None:
        """The resolve's Stream for ``page_url`` if still fresh; stream URLs expire, so never an old one."""
        return _take_fresh(self._handed, page_url)

    def _job_config(self) -> ExtractorConfig:
        """The config jobs carry, with the egress proxy's addresses (which start it on first use)."""
        config = self._config
        if config.lookup_proxy is None:
            config = self._config = dataclasses.replace(
                config,
                lookup_proxy=self.egress.url(ClientKind.LOOKUP),
                media_proxy=self.egress.url(ClientKind.MEDIA),
            )
        return config

    async def _submit(self, job: ExtractJob, priority: Priority) -> JobResult:
        if self._closed:
            raise ExtractionError(MSG_CLOSED)
        job = dataclasses.replace(job, config=self._job_config())
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        try:
            release = await asyncio.wait_for(self._gate.acquire(priority), self.timeout)
            try:
                future = loop.run_in_executor(self._executor, run_job, job)
            except RuntimeError as exc:  # executor already shut down
                release()
                raise ExtractionError(MSG_CLOSED, detail=str(exc)) from None
            # The slot is free when the worker is: a lookup that timed out holds it until its
            # worker gave up or was killed.
            future.add_done_callback(lambda done: _released(done, release))
            result = await asyncio.wait_for(asyncio.shield(future), max(0.0, deadline - loop.time()))
        except TimeoutError:
            log.info("extractor %s timed out after %.1fs", job.kind, self.timeout)
            raise ExtractionTimeout(MSG_TIMEOUT, detail=f"{job.kind} exceeded {self.timeout}s") from None
        except concurrent.futures.BrokenExecutor as exc:
            raise ExtractionError(MSG_GENERIC, detail=f"executor broken: {exc}") from None
        if result.failure is not None:
            error = result.failure.to_error()
            log.info("extractor %s failed (%s): %s", job.kind, type(error).__name__, error)
            raise error
        return result


def _released(future: asyncio.Future[JobResult], release: Callable[[], None]) -> None:
    release()
    if not future.cancelled():
        future.exception()  # retrieved: a lookup given up on may still fail later, quietly
