"""The one yt-dlp wrapper: user text in, frozen :class:`Track` / :class:`Stream` out.

Nothing outside this package imports yt-dlp or reads its info dicts. Every call runs the blocking job
(:func:`run_job`) in an executor under ``asyncio.wait_for`` (plus yt-dlp's own ``socket_timeout``),
and every link passes the :class:`UrlPolicy` before yt-dlp or FFmpeg fetches it.

Stream URLs expire (about 6 h on YouTube) and embed the host's IP, so tracks carry only the page
URL and :meth:`Extractor.stream` fetches a fresh media URL right before playback.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import functools
import logging
import re
import shutil
import urllib.parse
from collections.abc import Callable
from pathlib import Path

from audio.egress_proxy import ClientKind, EgressProxy
from audio.errors import BrentError, ExtractionError, ExtractionTimeout
from audio.executors import DEFAULT_EXECUTOR_MODE, ExecutorMode, default_workers, make_executor
from audio.extractor.config import (
    DEFAULT_PLAYLIST_LIMIT,
    DEFAULT_SEARCH_PROVIDER,
    DEFAULT_TIMEOUT,
    ExtractorConfig,
)
from audio.extractor.fresh_streams import FreshStreams, StreamUse
from audio.extractor.jobs import ExtractJob, JobKind, JobResult, run_job
from audio.extractor.messages import MSG_CLOSED, MSG_GENERIC, MSG_NO_LIBRARY, MSG_TIMEOUT
from audio.extractor.query import is_url, lookup_query
from audio.extractor.sites import search_key, split_prefix
from audio.extractor.ytdl import allowed_extractors_for, warm_worker
from audio.local_library import LIBRARY_HOST, LocalLibrary, library_path, track_of
from audio.lookup_gate import LookupGate, Priority
from audio.track import Provider, Stream, Track
from audio.upstream_proxy import UpstreamProxy
from audio.url_policy import UrlPolicy
from audio.worker_pool import WorkerPoolExecutor

log = logging.getLogger(__name__)

DEADLINE_GRACE = 2.0  # a worker still busy this long after a lookup's timeout is killed
MAX_SEARCH_RESULTS = 25


class Extractor:
    """Turns user text into Tracks and Tracks into fresh Streams, off the event loop.

    Owns an executor made by :func:`make_executor` in ``mode`` (see :class:`ExecutorMode`) unless
    ``executor`` is given; a given executor is not shut down by :meth:`close`. Every fetch of a
    lookup goes through ``egress`` (one is made from ``policy`` and owned when none is given). At most
    one job per worker runs; playback jobs go before members' lookups, and past ``max_waiting``
    waiting lookups a member is told the bot is busy.
    """

    is_url = staticmethod(is_url)

    def __init__(
        self,
        *,
        policy: UrlPolicy,
        timeout: float = DEFAULT_TIMEOUT,
        playlist_limit: int = DEFAULT_PLAYLIST_LIMIT,
        search_provider: str = DEFAULT_SEARCH_PROVIDER,
        executor: concurrent.futures.Executor | None = None,
        ffprobe: str | None = None,
        mode: ExecutorMode | str = DEFAULT_EXECUTOR_MODE,
        workers: int | None = None,
        egress: EgressProxy | None = None,
        max_waiting: int = 8,
        library: LocalLibrary | None = None,
        cookies: Path | None = None,
        upstream: UpstreamProxy | None = None,
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
        self.library = library
        self.egress = egress if egress is not None else EgressProxy(
            policy, lookup_lifetime=timeout, library=library, upstream=upstream
        )
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
            cookies=str(cookies) if cookies is not None else None,
        )
        self._closed = False
        self._fresh_streams = FreshStreams()

    async def resolve_all(
        self, text: str, *, requester_id: int | None = None, search_provider: str | None = None
    ) -> list[Track]:
        """A playlist link's entries (at most ``playlist_limit``), or the one track; words are searched
        on their prefix's site (``sc: words``), else with ``search_provider`` (``ytsearch``, ``scsearch``:
        a server's default), else the bot's."""
        return await self._tracks(JobKind.RESOLVE_ALL, text, 1, self.playlist_limit, requester_id, search_provider)

    async def search(
        self, text: str, n: int = 5, *, requester_id: int | None = None, search_provider: str | None = None
    ) -> list[Track]:
        """Up to ``n`` search hits; a link gives its track (or a playlist's first ``n``). The site
        may also be the first word (``sc words``)."""
        n = max(1, min(n, MAX_SEARCH_RESULTS, self.playlist_limit))
        return await self._tracks(JobKind.SEARCH, text, n, n, requester_id, search_provider)

    async def stream(self, track: Track) -> Stream:
        """A fresh media URL for ``track``, checked by the policy before FFmpeg may touch it.

        Right after a single-track resolve this is the Stream that resolve found (already checked,
        fresh by the rules of :mod:`audio.extractor.fresh_streams`, used once); otherwise a new lookup.
        """
        if track.provider is Provider.LOCAL:
            return await self._library_stream(track)
        stream = self._fresh_streams.take(track.page_url, StreamUse.PLAYBACK)
        if stream is None:
            result = await self._submit(
                ExtractJob(JobKind.STREAM, track.page_url, True, self.policy, self._config, track.requester_id),
                Priority.PLAYBACK,
            )
            assert result.stream is not None
            stream = result.stream
        if track.live and not stream.is_live:
            stream = dataclasses.replace(stream, is_live=True)  # a radio station: the live cap, no seeking
        return stream

    async def page(self, url: str) -> str:
        """The text of a public page (a music site's link, its oEmbed or API answer), through the gate."""
        result = await self._submit(ExtractJob(JobKind.PAGE, url, False, self.policy, self._config), Priority.LOOKUP)
        assert result.page is not None
        return result.page

    def needs_measuring(self, track: Track) -> bool:
        """A direct file whose length yt-dlp did not give (it never does), while ffprobe is at hand;
        not one already found to be a radio station."""
        return (
            track.provider is Provider.DIRECT
            and track.duration is None
            and not track.live
            and bool(self._config.ffprobe)
        )

    async def measure(self, track: Track) -> Track:
        """``track`` with its duration measured by ffprobe, or ``track`` itself when there is nothing
        to measure or it cannot be measured (a live radio stream has no length; a lookup failed).

        Resolves return direct files without a duration so that playback need not wait for a
        process start; this is the second half, for callers to run once the track is playing. A
        stream with no length whose server sends icy-* headers comes back marked ``live``.
        """
        if not self.needs_measuring(track):
            return track
        stream = self._fresh_streams.take(track.page_url, StreamUse.MEASURE)
        job = ExtractJob(
            JobKind.MEASURE, track.page_url, True, self.policy, self._config, track.requester_id, stream=stream
        )
        try:
            result = await self._submit(job, Priority.PLAYBACK)
        except BrentError as exc:
            log.info("could not measure a direct file (%s): %s", type(exc).__name__, exc)
            return track
        if result.live:
            return dataclasses.replace(track, live=True)
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

    def _require_library(self) -> LocalLibrary:
        if self.library is None:
            raise ExtractionError(MSG_NO_LIBRARY, detail="local: without a music library")
        return self.library

    async def _library_stream(self, track: Track) -> Stream:
        """The egress proxy's URL for a library file, which it serves from the folder itself."""
        library = self._require_library()
        relative = library_path(track.page_url)
        await asyncio.to_thread(library.inside, relative)  # still there, still inside the folder
        return Stream(url=f"http://{LIBRARY_HOST}/{library.token}/{urllib.parse.quote(relative)}", http_headers={})

    async def _from_library(self, words: str, n: int, requester_id: int | None) -> list[Track]:
        entries = await asyncio.to_thread(self._require_library().search, words, n)
        return [track_of(entry, requester_id) for entry in entries]

    def _search_key(self, text: str, search_provider: str | None, *, bare: bool) -> tuple[str, str]:
        """The words without their site prefix, and the yt-dlp search key they go to."""
        prefixed, words = split_prefix(text, bare=bare)
        if prefixed is None or is_url(words):
            return words, search_provider or self.search_provider
        return words, search_key(prefixed, self.policy.allowed_providers)

    async def _tracks(
        self, kind: JobKind, text: str, n: int, limit: int, requester_id: int | None, search_provider: str | None
    ) -> list[Track]:
        """``n`` is how many hits to ask the search for, ``limit`` how many tracks to keep."""
        prefixed, local_words = split_prefix(text, bare=kind is JobKind.SEARCH)
        if prefixed == "local":
            return await self._from_library(local_words, n, requester_id)
        words, key = self._search_key(text, search_provider, bare=kind is JobKind.SEARCH)
        query, is_link = lookup_query(words, search_provider=key, hits=n)
        job = ExtractJob(kind, query, is_link, self.policy, self._config, requester_id, limit)
        result = await self._submit(job, Priority.LOOKUP)
        if result.stream is not None and len(result.tracks) == 1:
            [track] = result.tracks
            uses = {StreamUse.PLAYBACK}
            if self.needs_measuring(track):
                uses.add(StreamUse.MEASURE)
            self._fresh_streams.keep(track.page_url, result.stream, uses)
        return list(result.tracks)

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
        except (concurrent.futures.BrokenExecutor, RuntimeError) as exc:  # a worker died, or shutdown
            raise ExtractionError(MSG_GENERIC, detail=f"lookup worker: {exc!r}") from None
        if result.failure is not None:
            error = result.failure.to_error()
            log.info("extractor %s failed (%s): %s", job.kind, type(error).__name__, error)
            raise error
        return result


def _released(future: asyncio.Future[JobResult], release: Callable[[], None]) -> None:
    release()
    if not future.cancelled():
        future.exception()  # retrieved: a lookup given up on may still fail later, quietly
