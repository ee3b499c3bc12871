"""The one way BRENT builds and runs a YoutubeDL: fixed options, every request through the egress
proxy with a bounded answer, one instance kept per worker.

The options keep yt-dlp minimal: nothing that runs or writes, only the
extractors of the allowed providers.
"""

from __future__ import annotations

import contextlib
import http.cookiejar
import logging
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, cast

import yt_dlp
from yt_dlp.compat import urllib_req_to_req
from yt_dlp.networking.common import Request as YtdlRequest

from audio.errors import ExtractionError, UrlRefused
from audio.extractor.config import ExtractorConfig
from audio.extractor.cookies import youtube_cookies
from audio.extractor.info import stream_from_info, tracks_from_info
from audio.extractor.messages import MSG_GENERIC, MSG_TOO_LARGE
from audio.track import Provider

log = logging.getLogger(__name__)

# Most bytes read from one web page or API answer; YouTube's largest (its player script) is ~3 MB.
MAX_RESPONSE_BYTES = 16 * 1024 * 1024
_WORKER_CACHE_SIZE = 4

# yt-dlp extractor names (regexes, full match). "generic" is only added when DIRECT links are
# allowed, and then only its direct-file result is accepted (info.require_direct_file).
_PROVIDER_EXTRACTORS: dict[Provider, tuple[str, ...]] = {
    Provider.YOUTUBE: (r"youtube", r"youtube:(tab|playlist|search|search_url|music:search_url|clip|shorts:.*)"),
    Provider.SOUNDCLOUD: (r"soundcloud(:.+)?",),
    Provider.BANDCAMP: (r"bandcamp(:.+)?",),
    Provider.DIRECT: (r"generic",),
}


def allowed_extractors_for(providers: Iterable[Provider]) -> tuple[str, ...]:
    """yt-dlp extractor allowlist matching the policy's providers; generic last (it matches anything)."""
    chosen = set(providers)
    names: list[str] = []
    for provider in (Provider.YOUTUBE, Provider.SOUNDCLOUD, Provider.BANDCAMP, Provider.DIRECT):
        if provider in chosen:
            names.extend(_PROVIDER_EXTRACTORS[provider])
    return tuple(names)


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


def ytdl_options(config: ExtractorConfig) -> dict[str, Any]:
    """The one YoutubeDL options dict: minimal features, nothing that runs or writes."""
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


class GuardedYoutubeDL(yt_dlp.YoutubeDL):
    """Sends every request yt-dlp makes through the egress proxy, and reads bounded answers.

    The proxy checks each connection's address (redirect hops included); here every request is
    pinned to it, whatever an extractor or a smuggled ``Ytdl-request-proxy`` header asked for, and no
    answer is read past :data:`MAX_RESPONSE_BYTES`. One instance serves many jobs (see
    :func:`worker_ytdl`): outside :meth:`job` every request is refused.
    """

    def __init__(self, params: dict[str, Any], *, cookies: list[http.cookiejar.Cookie] | None = None) -> None:
        super().__init__(params)
        self._in_job = False
        self._cookies = cookies or []  # the owner's YouTube cookies, put back for every job

    @contextlib.contextmanager
    def job(self) -> Iterator[GuardedYoutubeDL]:
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
        for cookie in self._cookies:
            self.cookiejar.set_cookie(cookie)
        self._YoutubeDL__header_cookies: list[Any] = []
        self._printed_messages.clear()
        self._playlist_level = 0
        self._playlist_urls.clear()
        self._num_downloads = 0
        self._num_videos = 0
        self._download_retcode = 0

    def _forceprint(self, key: str, info_dict: dict[str, Any] | None) -> dict[str, Any] | None:
        """yt-dlp renders every table of an info dict (formats, thumbnails, subtitles) for ``--print``
        twice per lookup even when nothing is to be printed: about a millisecond of each lookup."""
        if self.params["forceprint"].get(key) or self.params["print_to_file"].get(key):
            return cast(dict[str, Any] | None, super()._forceprint(key, info_dict))
        return None if info_dict is None else dict(info_dict)

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


_worker_state = threading.local()


def worker_ytdl(config: ExtractorConfig) -> GuardedYoutubeDL:
    """This thread's YoutubeDL for ``config``, built on first use.

    A new YoutubeDL costs ~30 ms (its TLS context loads the CA bundle on the first request, even
    for http://); a reused one extracts a direct file in ~5 ms. The options depend only on
    ``config``, the policy is set per job. Thread-local, so it also holds in a process-pool worker
    (one per process) and a SUBPROCESS child (used once).
    """
    cache: dict[ExtractorConfig, GuardedYoutubeDL] | None = getattr(_worker_state, "ytdls", None)
    if cache is None:
        cache = _worker_state.ytdls = {}
    ydl = cache.get(config)
    if ydl is None:
        while len(cache) >= _WORKER_CACHE_SIZE:
            cache.pop(next(iter(cache))).close()
        cookies = youtube_cookies(Path(config.cookies)) if config.cookies else None
        ydl = cache[config] = GuardedYoutubeDL(ytdl_options(config), cookies=cookies)
    return ydl


WARM_URL = "https://warm-up.invalid/"  # matched against patterns only, never fetched
WARM_REQUEST = "http://127.0.0.1:9/warm-up"  # the discard port; only the egress proxy sees it


def warm_worker(config: ExtractorConfig) -> None:
    """Build what a worker's first lookup would otherwise pay for (about 150 ms): its YoutubeDL for
    ``config``, every allowed extractor's URL pattern (compiled on first match), the extractor
    modules a link ends in (imported on first use), the HTTP session, and the regular expressions
    of format sorting and selection and of the Track edge (compiled on first use)."""
    ydl = worker_ytdl(config)
    for extractor in ydl._ies.values():
        extractor.suitable(WARM_URL)
    for key in ydl._ies:
        ydl.get_info_extractor(key)
    # One request builds the HTTP session and its TLS context; the egress proxy answers it at once
    # (a loopback port is refused or closed: 502), with no name to resolve.
    with ydl.job(), contextlib.suppress(Exception):
        ydl.urlopen(WARM_REQUEST).close()
    # What the generic extractor answers for a direct file, processed as a lookup's answer is
    # (formats, not URLs, are all it holds: nothing is fetched).
    with ydl.job():
        info = ydl.process_ie_result(_warm_answer(), download=False)
    tracks_from_info(info, limit=1)
    stream_from_info(info)


def _warm_answer() -> dict[str, Any]:
    url = WARM_URL + "warm-up.mp3"
    return {
        "id": "warm-up", "title": "warm-up", "direct": True, "webpage_url": url, "original_url": url,
        "formats": [{"format_id": "mpeg", "url": url, "ext": "mp3", "vcodec": "none"}],
        "webpage_url_basename": "warm-up.mp3", "webpage_url_domain": "warm-up.invalid",
        "extractor": "generic", "extractor_key": "Generic",
    }
