"""Hostile pages against a real Extractor in PROCESS mode with one worker, all on 127.0.0.1.

A page that drips one byte every half second never trips yt-dlp's read timeout; only the worker's
deadline ends it. A 200 MB "web page" must be refused after MAX_RESPONSE_BYTES without the worker
holding anything like the whole body in memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.server
import socketserver
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest

from audio.egress_proxy import EgressProxy
from audio.errors import ExtractionError, ExtractionTimeout
from audio.executors import ExecutorMode
from audio.extractor import DEADLINE_GRACE, MAX_RESPONSE_BYTES, MSG_TIMEOUT, MSG_TOO_LARGE, Extractor
from audio.url_policy import UrlPolicy
from audio.worker_pool import WorkerPoolExecutor
from tests.media import MediaServer
from tests.media import media_server as serve_media

TIMEOUT = 2.0
DRIP_INTERVAL = 0.5
HUGE_BODY = 200 * 1024 * 1024
MB = 1024 * 1024


@pytest.fixture
def drip_server(media_dir: Path) -> Iterator[MediaServer]:
    """The usual media files, plus ``/drip.mp3``: an HTML page (whatever its name says) that never ends."""
    with serve_media(media_dir, drip_paths={"/drip.mp3"}, drip_interval=DRIP_INTERVAL) as server:
        yield server


@dataclass
class HugePage:
    """A server whose ``/huge.mp3`` is a 200 MB HTML body made up as it is sent (never stored)."""

    port: int = 0
    sent: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/huge.mp3"


@pytest.fixture
def huge_page() -> Iterator[HugePage]:
    page = HugePage()
    chunk = (b"<p>" + b"all work and no play " * 3000 + b"</p>\n")[: 64 * 1024]

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

        def do_GET(self) -> None:  # noqa: N802
            self.close_connection = True
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(HUGE_BODY))
            self.end_headers()
            left = HUGE_BODY
            try:
                self.wfile.write(b"<!DOCTYPE html><html><head><title>huge</title></head><body>"[:left])
                left -= 60
                while left > 0:
                    piece = chunk[:left]
                    self.wfile.write(piece)
                    left -= len(piece)
                    with page.lock:
                        page.sent += len(piece)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client stopped reading: that is the point

    class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
        daemon_threads = True

    httpd = Server(("127.0.0.1", 0), Handler)
    page.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield page
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@contextlib.asynccontextmanager
async def process_extractor(egress: EgressProxy, timeout: float) -> AsyncIterator[Extractor]:
    """One worker, started and warmed as the bot does at login. ``egress`` (the test fixture) keeps
    lookup connections open for 30 s, so within these tests only the worker's deadline ends one."""
    extractor = Extractor(
        policy=UrlPolicy(allow_private_network=True), timeout=timeout, mode=ExecutorMode.PROCESS, workers=1,
        egress=egress,
    )
    try:
        await extractor.warm_up()
        yield extractor
    finally:
        extractor.close()


def pool_of(extractor: Extractor) -> WorkerPoolExecutor:
    pool = extractor._executor
    assert isinstance(pool, WorkerPoolExecutor)
    return pool


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


async def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    """Bounded poll of state that has no event to wait on (the pool's bookkeeping)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        await asyncio.sleep(0.02)


async def test_a_dripping_page_times_out_and_its_worker_is_replaced(
    egress: EgressProxy, drip_server: MediaServer
) -> None:
    async with process_extractor(egress, TIMEOUT) as extractor:
        pool = pool_of(extractor)
        (stuck_pid,) = pool.pids
        started = time.monotonic()
        with pytest.raises(ExtractionTimeout) as timed_out:
            await extractor.resolve_all(drip_server.url("drip.mp3"))
        answered = time.monotonic() - started
        assert timed_out.value.user_message == MSG_TIMEOUT
        assert TIMEOUT - 0.1 <= answered < TIMEOUT + 1.0  # the member hears at the timeout
        assert [r.path for r in drip_server.requests] == ["/drip.mp3"]  # it really was the page
        assert pool.replaced == 0 and alive(stuck_pid)  # still inside the page when the member heard

        # The worker is killed at the deadline (timeout + grace) and a new one takes its slot.
        await wait_until(
            lambda: pool.replaced == 1 and extractor._gate.running == 0,
            TIMEOUT + DEADLINE_GRACE + 15, "the stuck worker replaced and its slot free",
        )
        assert time.monotonic() - started >= TIMEOUT + DEADLINE_GRACE
        assert not alive(stuck_pid)
        (new_pid,) = pool.pids
        assert new_pid != stuck_pid and alive(new_pid)

        (track,) = await extractor.resolve_all(drip_server.url("tone.mp3"))
        assert track.title.startswith("tone")
        assert pool.pids == {new_pid} and pool.replaced == 1


async def test_a_lookup_waiting_behind_a_stuck_one_is_told_it_timed_out(
    egress: EgressProxy, drip_server: MediaServer
) -> None:
    """One worker: the second lookup waits for the gate and gives up at its own timeout."""
    async with process_extractor(egress, TIMEOUT) as extractor:
        stuck = asyncio.ensure_future(extractor.resolve_all(drip_server.url("drip.mp3")))
        await asyncio.to_thread(drip_server.wait_for_requests, 1, 10.0)
        with pytest.raises(ExtractionTimeout):
            await extractor.resolve_all(drip_server.url("tone.mp3"))
        with pytest.raises(ExtractionTimeout):
            await stuck
        assert [r.path for r in drip_server.requests] == ["/drip.mp3"]  # the file was never fetched
        # Leave nothing in flight: closing during a call meets a worker_pool shutdown race
        # (test_worker_pool.py, test_shutdown_during_a_call_never_raises).
        pool = pool_of(extractor)
        await wait_until(lambda: pool.replaced == 1 and extractor._gate.running == 0, 20, "the stuck worker replaced")


class RssSampler:
    """The highest resident size of one process, sampled every few milliseconds on a thread."""

    def __init__(self, pid: int) -> None:
        self._process = psutil.Process(pid)
        self._stop = threading.Event()
        self.peak = 0
        self.samples = 0
        self._first = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        assert self._first.wait(5), "the sampler never sampled"
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(psutil.NoSuchProcess):
                self.peak = max(self.peak, self._process.memory_info().rss)
                self.samples += 1
                self._first.set()
            self._stop.wait(0.002)


async def test_a_200_mb_html_page_is_refused_and_never_held_in_memory(
    egress: EgressProxy, huge_page: HugePage
) -> None:
    async with process_extractor(egress, 30.0) as extractor:
        pool = pool_of(extractor)
        (pid,) = pool.pids
        before = psutil.Process(pid).memory_info().rss
        with RssSampler(pid) as rss, pytest.raises(ExtractionError) as refused:
            await extractor.resolve_all(huge_page.url)
        assert refused.value.user_message == MSG_TOO_LARGE
        assert rss.samples > 3  # sampling before the lookup began and all through it (it takes ~20 ms)
        assert rss.peak < HUGE_BODY, f"worker peaked at {rss.peak / MB:.0f} MB"
        # At most a few copies of what the cap lets in (yt-dlp joins, decodes and searches a page).
        grew = rss.peak - before
        assert grew < 3 * MAX_RESPONSE_BYTES, f"worker grew by {grew / MB:.0f} MB (from {before / MB:.0f} MB)"
        with huge_page.lock:
            assert huge_page.sent < HUGE_BODY // 2  # reading stopped; the rest was never sent
        assert pool.pids == {pid} and pool.replaced == 0  # refused in time: no kill was needed
