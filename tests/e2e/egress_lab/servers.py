"""The egress lab's HTTP listeners: the internal ones that must stay dark, and what every listener shares.

Inside the lab's network namespace these bind real addresses on ``lo``: the public site on
93.184.215.14:80 serves legitimate tones and every attack response (redirects only ffmpeg sees,
playlists behind ``.mp3``, a connection cut mid-file, a drip); the internal listeners (cloud
metadata, Oracle's legacy metadata, a LAN host, a port on 127.0.0.1) record every connection they
accept, before any request is read, so an attack that merely touched them still counts. They also
answer every request with a playable "secret" tone, so a leak would even be audible in the voice
channel instead of hiding behind a parse error.

The public site that attacks is in :mod:`tests.e2e.egress_lab.public_site`. A connection's peer is looked up in the namespace's socket table at accept time, so a recorded hit
says which process (the bot's egress proxy, an ffmpeg, a yt-dlp worker) opened it.
"""

from __future__ import annotations

import contextlib
import http.server
import logging
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psutil

log = logging.getLogger(__name__)

RANGE = re.compile(r"bytes=(\d+)-(\d*)$")
CHUNK = 16 * 1024


def is_media_client(headers: dict[str, str]) -> bool:
    """ffmpeg or ffprobe rather than yt-dlp: what a site serving different answers would look at.

    ffmpeg's http protocol announces itself as ``Lavf/...`` unless the stream's headers carry a
    User-Agent. The bot hands ffmpeg and ffprobe yt-dlp's browser User-Agent, so in this lab they
    are told apart by the ICY metadata request ffmpeg always makes and yt-dlp never does; an
    attacker's site can do the same.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    return lowered.get("user-agent", "").startswith("Lavf") or "icy-metadata" in lowered


@dataclass(frozen=True, slots=True)
class Hit:
    """One connection accepted, or one request read, by a lab listener."""

    listener: str
    kind: str  # "connection" or "request"
    peer: str
    method: str = ""
    path: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    process: str = ""  # who opened the connection (pid and command line), for a leak report
    at: float = 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "listener": self.listener, "kind": self.kind, "peer": self.peer, "method": self.method,
            "path": self.path, "headers": self.headers, "process": self.process,
        }


class HitLog:
    """Thread-safe list of hits: listener threads add, the scenario takes snapshots."""

    def __init__(self) -> None:
        self._hits: list[Hit] = []
        self._lock = threading.Lock()

    def add(self, hit: Hit) -> None:
        with self._lock:
            self._hits.append(hit)

    def snapshot(self) -> list[Hit]:
        with self._lock:
            return list(self._hits)

    def __len__(self) -> int:
        with self._lock:
            return len(self._hits)


def _owner_of(peer: tuple[str, int]) -> str:
    """``pid name cmdline`` of the process whose TCP socket has local address ``peer``."""
    with contextlib.suppress(psutil.Error, OSError):
        for conn in psutil.net_connections(kind="tcp"):
            if conn.laddr and (conn.laddr.ip, conn.laddr.port) == peer and conn.pid:
                process = psutil.Process(conn.pid)
                return f"pid {conn.pid} {process.name()}: {' '.join(process.cmdline())[:300]}"
    return "unknown"


class LabServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], handler: type[http.server.BaseHTTPRequestHandler],
                 name: str, hits: HitLog, *, record_connections: bool) -> None:
        self.name = name
        self.hits = hits
        self.record_connections = record_connections
        super().__init__(address, handler)

    def verify_request(self, request: object, client_address: tuple[str, int]) -> bool:
        """Called on accept, before a byte is read: a touch counts even if no request follows."""
        if self.record_connections:
            peer = f"{client_address[0]}:{client_address[1]}"
            self.hits.add(Hit(self.name, "connection", peer, process=_owner_of(client_address), at=time.perf_counter()))
        return True

    def handle_error(self, request: object, client_address: object) -> None:
        """Clients hang up mid-response all the time (that is what the proxy does to a refused
        answer's connection and what ffmpeg does on a seek); not a lab failure."""
        log.debug("lab server %s: client %s went away", self.name, client_address, exc_info=True)


class LabHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: LabServer

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        log.debug("%s: " + format, self.server.name, *args)

    def do_GET(self) -> None:  # noqa: N802
        self._record_and_answer(body=True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._record_and_answer(body=False)

    def do_POST(self) -> None:  # noqa: N802
        self._record_and_answer(body=True)

    def _record_and_answer(self, *, body: bool) -> None:
        peer = f"{self.client_address[0]}:{self.client_address[1]}"
        self.server.hits.add(Hit(
            self.server.name, "request", peer, self.command, self.path, dict(self.headers.items()),
            at=time.perf_counter(),
        ))
        self.answer(body=body)

    def answer(self, *, body: bool) -> None:
        raise NotImplementedError

    # -- response helpers ---------------------------------------------------------------------

    def send_file(self, file: Path, *, body: bool, cut_at: int | None = None) -> None:
        """Serve ``file`` with Range support; with ``cut_at``, stop before that byte (the caller
        then drops the connection). A client that hangs up early is normal (ffmpeg seeks)."""
        size = file.stat().st_size
        start, end, status = 0, size - 1, 200
        match = RANGE.match(self.headers.get("Range", "").strip())
        if match:
            start = int(match.group(1))
            end = min(int(match.group(2)), size - 1) if match.group(2) else size - 1
            if start >= size:
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{size}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            status = 206
        self.send_response(status)
        self.send_header("Content-Type", "audio/mpeg")
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(end - start + 1))
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.end_headers()
        if not body:
            return
        stop = end + 1 if cut_at is None else min(end + 1, cut_at)
        try:
            with file.open("rb") as fh:
                fh.seek(start)
                position = start
                while position < stop:
                    chunk = fh.read(min(CHUNK, stop - position))
                    self.wfile.write(chunk)
                    position += len(chunk)
            self.wfile.flush()
        except OSError:
            log.debug("%s: client left during %s", self.server.name, self.path)

    def send_body(self, status: int, content_type: str, payload: bytes, *, body: bool,
                  extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if body:
            with contextlib.suppress(OSError):
                self.wfile.write(payload)

    def drop(self) -> None:
        """End the connection now, without finishing the response (a network cut)."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)


# -- internal listeners --------------------------------------------------------------------------


class _InternalHandler(LabHandler):
    secret: Path

    def answer(self, *, body: bool) -> None:
        self.send_file(self.secret, body=body)


@contextlib.contextmanager
def internal_listener(name: str, address: tuple[str, int], hits: HitLog, secret: Path) -> Iterator[tuple[str, int]]:
    """Listen on ``address`` as an internal service; every connection and request goes to ``hits``."""
    handler = type("InternalHandler", (_InternalHandler,), {"secret": secret})
    with serving(LabServer(address, handler, name, hits, record_connections=True)) as bound:
        yield bound



@contextlib.contextmanager
def serving(server: LabServer) -> Iterator[tuple[str, int]]:
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              name=f"lab-{server.name}", daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield str(host), int(port)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
