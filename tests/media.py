"""Generated audio and a loopback HTTP media server, shared by the audio tests.

Tests never touch the internet: real media come from ffmpeg's lavfi sources and are served from
127.0.0.1 by :class:`MediaServer`, which records every request so a test can prove that a refused
URL never reached it.

A "clock" file changes pitch every second (second ``k`` is a ``300 + 50*k`` Hz sine), so a test can
tell from the decoded audio which second of the file it is hearing (seek and resume checks).
"""

from __future__ import annotations

import contextlib
import http.server
import itertools
import logging
import os
import re
import shutil
import socket
import socketserver
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

FFMPEG = shutil.which("ffmpeg") or "ffmpeg"
CLOCK_BASE_HZ = 300
CLOCK_STEP_HZ = 50


def clock_frequency(second: int) -> int:
    """The pitch of second ``second`` of a file made by :func:`generate_clock`."""
    return CLOCK_BASE_HZ + CLOCK_STEP_HZ * second


def _encode(path: Path, lavfi: str, seconds: float) -> Path:
    """Encode a lavfi source; the container and codec follow the file extension."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    cmd = [
        FFMPEG, "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", lavfi,
        "-t", f"{seconds:.3f}", "-ac", "2", "-ar", "48000",
    ]
    if path.suffix.lower() == ".opus":
        cmd += ["-c:a", "libopus"]
    cmd.append(str(path))
    subprocess.run(cmd, check=True, capture_output=True, timeout=60)
    return path


def generate_tone(path: Path | str, freq: float, seconds: float) -> Path:
    """A constant sine tone of ``freq`` Hz lasting ``seconds``."""
    return _encode(Path(path), f"sine=frequency={freq}:sample_rate=48000:duration={seconds}", seconds)


def generate_clock(path: Path | str, seconds: int) -> Path:
    """A file whose second ``k`` is a sine of ``300 + 50*k`` Hz (see :func:`clock_frequency`)."""
    # floor(t) is constant within a second, so the phase expression gives an exact per-second pitch.
    expr = f"sin(2*PI*({CLOCK_BASE_HZ}+{CLOCK_STEP_HZ}*floor(t))*t)"
    lavfi = f"aevalsrc=exprs='{expr}':sample_rate=48000:duration={seconds}"
    return _encode(Path(path), lavfi, float(seconds))


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]


_CONTENT_TYPES = {
    ".mp3": "audio/mpeg",
    ".ogg": "audio/ogg",
    ".opus": "audio/ogg",
    ".m4a": "audio/mp4",
    ".aac": "audio/aac",
    ".flac": "audio/flac",
    ".wav": "audio/wav",
    ".webm": "audio/webm",
    ".mka": "audio/x-matroska",
}
_RANGE = re.compile(r"bytes=(\d*)-(\d*)$")


@dataclass
class MediaServer:
    """What the :func:`media_server` context manager yields.

    ``hang`` paths accept the connection and never answer, for timeout tests. ``drip_paths`` answer
    200 with an HTML page that never ends: one byte every ``drip_interval`` seconds until the client
    goes or the server stops (a link that keeps a lookup busy without ever tripping a read timeout).
    ``truncate_paths`` maps a path to a fraction of its file: a response that would carry the byte
    at that fraction stops just before it and the connection is dropped (a request starting
    further on is served normally, as a Range retry would be). ``expiring_paths`` are full request
    paths (with query) answered once; every later request gets 403, like an expired media URL.
    ``held_agents`` maps a User-Agent fragment to an event: a request whose User-Agent contains it
    is answered only once the event is set (at most ``hold_timeout`` seconds), so a test can prove
    what another client did while that one waited.
    """

    root: Path
    host: str = "127.0.0.1"
    port: int = 0
    requests: list[RecordedRequest] = field(default_factory=list)
    hang_paths: set[str] = field(default_factory=set)
    redirects: dict[str, str] = field(default_factory=dict)
    truncate_paths: dict[str, float] = field(default_factory=dict)
    expiring_paths: set[str] = field(default_factory=set)
    drip_paths: set[str] = field(default_factory=set)
    drip_interval: float = 0.5
    held_agents: dict[str, threading.Event] = field(default_factory=dict)
    hold_timeout: float = 10.0
    _served_once: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _release: threading.Event = field(default_factory=threading.Event)
    _request_seen: threading.Condition = field(init=False)

    def __post_init__(self) -> None:
        self._request_seen = threading.Condition(self._lock)

    def url(self, name: str) -> str:
        """The http URL of ``name`` (a path under root, or any path) on this server."""
        return f"http://{self.host}:{self.port}/{name.lstrip('/')}"

    def record(self, request: RecordedRequest) -> None:
        with self._request_seen:
            self.requests.append(request)
            self._request_seen.notify_all()

    def wait_for_requests(self, count: int, timeout: float = 5.0) -> bool:
        """Block until at least ``count`` requests were recorded; False on timeout."""
        with self._request_seen:
            return self._request_seen.wait_for(lambda: len(self.requests) >= count, timeout)

    def wait_for_request(self, matches: Callable[[RecordedRequest], bool], timeout: float = 5.0) -> bool:
        """Block until a recorded request ``matches``; False on timeout."""
        with self._request_seen:
            return self._request_seen.wait_for(lambda: any(matches(r) for r in self.requests), timeout)

    def request_count(self) -> int:
        with self._lock:
            return len(self.requests)


def _make_handler(server: MediaServer) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            log.debug("media server: " + format, *args)

        def do_HEAD(self) -> None:  # noqa: N802
            self._serve(body=False)

        def do_GET(self) -> None:  # noqa: N802
            self._serve(body=True)

        def _serve(self, *, body: bool) -> None:
            path = self.path.split("?", 1)[0]
            server.record(RecordedRequest(self.command, self.path, dict(self.headers.items())))
            agent = self.headers.get("User-Agent", "")
            for fragment, released in list(server.held_agents.items()):
                if fragment in agent:
                    released.wait(server.hold_timeout)
            if path in server.hang_paths:
                server._release.wait()
                self.close_connection = True
                return
            if path in server.drip_paths:
                self._drip(body=body)
                return
            with server._lock:
                expired = self.path in server.expiring_paths and self.path in server._served_once
                if self.path in server.expiring_paths:
                    server._served_once.add(self.path)
            if expired:
                self.send_error(403)
                return
            if path in server.redirects:
                self.send_response(302)
                self.send_header("Location", server.redirects[path])
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            file = (server.root / path.lstrip("/")).resolve()
            if server.root.resolve() not in file.parents or not file.is_file():
                self.send_error(404)
                return
            size = file.stat().st_size
            start, end = 0, size - 1
            status = 200
            rng = self.headers.get("Range")
            if rng:
                m = _RANGE.match(rng.strip())
                if not m or (not m.group(1) and not m.group(2)):
                    self.send_error(416)
                    return
                if m.group(1):
                    start = int(m.group(1))
                    if m.group(2):
                        end = min(int(m.group(2)), size - 1)
                else:
                    start = max(0, size - int(m.group(2)))
                if start >= size or start > end:
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{size}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                status = 206
            length = end - start + 1
            send = length
            if path in server.truncate_paths:
                cut = int(size * server.truncate_paths[path])
                if start < cut <= end:
                    send = cut - start
                    self.close_connection = True
            self.send_response(status)
            self.send_header("Content-Type", _CONTENT_TYPES.get(file.suffix.lower(), "application/octet-stream"))
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Content-Length", str(length))
            if status == 206:
                self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
            self.end_headers()
            if not body:
                return
            with file.open("rb") as fh:
                fh.seek(start)
                remaining = send
                try:
                    while remaining > 0:
                        chunk = fh.read(min(64 * 1024, remaining))
                        if not chunk:
                            break
                        self.wfile.write(chunk)
                        remaining -= len(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # ffmpeg closes early on seek; that is normal
            if send < length:
                self.wfile.flush()
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)

        def _drip(self, *, body: bool) -> None:
            self.close_connection = True
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Connection", "close")  # no length: the page ends when the connection does
            self.end_headers()
            if not body:
                return
            head = b"<!DOCTYPE html><html><head><title>drip</title></head><body>"
            forever = itertools.chain((head[i : i + 1] for i in range(len(head))), itertools.repeat(b"."))
            try:
                for byte in forever:
                    self.wfile.write(byte)
                    self.wfile.flush()
                    if server._release.wait(server.drip_interval):
                        return
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client (or the proxy's time limit) hung up

    return Handler


class _ThreadingServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False

    def handle_error(self, request: object, client_address: object) -> None:
        """Clients (ffmpeg, yt-dlp) hang up mid-request all the time; that is not a server bug."""
        exc = sys.exc_info()[1]
        if isinstance(exc, ConnectionError | TimeoutError):
            log.debug("media server: client %s went away: %r", client_address, exc)
            return
        super().handle_error(request, client_address)


@contextlib.contextmanager
def media_server(
    root: Path | str,
    *,
    hang_paths: set[str] | None = None,
    redirects: dict[str, str] | None = None,
    truncate_paths: dict[str, float] | None = None,
    expiring_paths: set[str] | None = None,
    drip_paths: set[str] | None = None,
    drip_interval: float = 0.5,
) -> Iterator[MediaServer]:
    """Serve files under ``root`` on 127.0.0.1 (random port) with HTTP Range support.

    Every request is recorded in ``MediaServer.requests``. Paths in ``hang_paths`` (e.g.
    ``{"/hang.mp3"}``) are accepted and never answered until the server stops. ``redirects``
    maps a path to a Location for a 302 (``server.redirects`` can also be filled in later).
    ``truncate_paths``, ``expiring_paths`` and ``drip_paths``: see :class:`MediaServer` (fault tests).
    """
    state = MediaServer(
        root=Path(root),
        hang_paths=set(hang_paths or ()),
        redirects=dict(redirects or {}),
        truncate_paths=dict(truncate_paths or {}),
        expiring_paths=set(expiring_paths or ()),
        drip_paths=set(drip_paths or ()),
        drip_interval=drip_interval,
    )
    httpd = _ThreadingServer(("127.0.0.1", 0), _make_handler(state))
    state.port = httpd.server_address[1]
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="media-server", daemon=True
    )
    thread.start()
    try:
        yield state
    finally:
        state._release.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def media_duration(path: Path | str) -> float:
    """The container duration ffprobe reports, for comparing with what the extractor says."""
    probe = shutil.which("ffprobe") or "ffprobe"
    out = subprocess.run(
        [probe, "-v", "error", "-show_entries", "format=duration", "-of", "default=nw=1:nk=1", os.fspath(path)],
        check=True, capture_output=True, text=True, timeout=30,
    )
    return float(out.stdout.strip())
