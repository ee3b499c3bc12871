"""The egress lab's "public" site: legitimate tones and every attack response, served as routes."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.e2e.egress_lab.servers import RANGE, HitLog, LabHandler, LabServer, is_media_client, serving


@dataclass(frozen=True, slots=True)
class Audio:
    """A legitimate audio file."""

    file: Path


@dataclass(frozen=True, slots=True)
class Redirect:
    """A redirect for every client (yt-dlp follows it during the lookup)."""

    status: int
    location: str


@dataclass(frozen=True, slots=True)
class MediaClientRedirect:
    """Audio for yt-dlp, a 302 for ffmpeg and ffprobe: the link checks out, the player is sent inside."""

    file: Path
    location: str


@dataclass(frozen=True, slots=True)
class Document:
    """A fixed body with a chosen Content-Type (an HLS or DASH playlist dressed as audio)."""

    content_type: str
    payload: bytes


@dataclass(frozen=True, slots=True)
class Drip:
    """A page that never finishes: one byte every ``interval`` seconds, in the head or the body."""

    interval: float
    in_head: bool = False


@dataclass(frozen=True, slots=True)
class CutMidStream:
    """ffmpeg's first request gets the first half of ``file``, then (once ``release`` is set)
    ``on_cut`` runs and the connection drops, so ffmpeg reconnects. Later ffmpeg requests (a
    Range past the start) get a 302 to ``then`` if given, else the file. yt-dlp always gets the file."""

    file: Path
    release: threading.Event
    on_cut: Callable[[], None] = lambda: None
    then: str | None = None


Route = Audio | Redirect | MediaClientRedirect | Document | Drip | CutMidStream


@dataclass(frozen=True, slots=True)
class Served:
    """What the public site did with one request (evidence that an attack was really delivered)."""

    path: str
    client: str  # "media" (ffmpeg/ffprobe) or "lookup" (yt-dlp)
    answer: str
    user_agent: str
    range: str
    at: float

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "client": self.client, "answer": self.answer,
                "user_agent": self.user_agent, "range": self.range}


class PublicSite:
    """The routes of the public host, and the log of what each request was answered with."""

    def __init__(self, routes: dict[str, Route]) -> None:
        self.routes = routes
        self._lock = threading.Lock()
        self.served: list[Served] = []
        self.stopping = threading.Event()

    def record(self, served: Served) -> None:
        with self._lock:
            self.served.append(served)

    def snapshot(self) -> list[Served]:
        with self._lock:
            return list(self.served)


class _PublicHandler(LabHandler):
    site: PublicSite

    def answer(self, *, body: bool) -> None:
        path = self.path.split("?", 1)[0]
        route = self.site.routes.get(path)
        headers = dict(self.headers.items())
        client = "media" if is_media_client(headers) else "lookup"
        range_header = self.headers.get("Range", "")
        match = RANGE.match(range_header.strip())
        from_start = match is None or int(match.group(1)) == 0
        what, act = self._plan(route, client, from_start, body=body)
        # Recorded before answering: a drip or a held cut may take the rest of the attack.
        self.site.record(Served(path, client, what, self.headers.get("User-Agent", ""), range_header,
                                time.perf_counter()))
        act()

    def _plan(self, route: Route | None, client: str, from_start: bool, *, body: bool) -> tuple[str, Callable[[], object]]:
        """(what this request gets, the action that sends it)."""
        if route is None:
            return "404", lambda: self.send_body(404, "text/plain", b"not here\n", body=body)
        if isinstance(route, Audio):
            return "audio", lambda: self.send_file(route.file, body=body)
        if isinstance(route, Redirect):
            return f"{route.status} -> {route.location}", lambda: self._redirect(route.status, route.location, body)
        if isinstance(route, MediaClientRedirect):
            if client == "media":
                return f"302 -> {route.location}", lambda: self._redirect(302, route.location, body)
            return "audio", lambda: self.send_file(route.file, body=body)
        if isinstance(route, Document):
            return f"document {route.content_type}", lambda: self.send_body(200, route.content_type, route.payload,
                                                                            body=body)
        if isinstance(route, Drip):
            return "drip", lambda: self._drip(route)
        if client != "media" or not body:
            return "audio", lambda: self.send_file(route.file, body=body)
        if not from_start:
            if route.then is not None:
                return f"302 -> {route.then}", lambda: self._redirect(302, route.then or "", body)
            return "audio (rest)", lambda: self.send_file(route.file, body=body)
        return "first half, then cut", lambda: self._cut_mid_stream(route)

    def _redirect(self, status: int, location: str, body: bool) -> None:
        self.send_body(status, "text/plain", b"", body=body, extra={"Location": location})

    def _cut_mid_stream(self, route: CutMidStream) -> None:
        self.send_file(route.file, body=True, cut_at=route.file.stat().st_size // 2)
        # Hold the cut until the scenario says the track is audibly playing (or the lab stops).
        route.release.wait(timeout=60)
        route.on_cut()
        self.drop()

    def _drip(self, route: Drip) -> None:
        """One byte per interval until the client or the lab gives up; the interval is the attack
        itself (slow enough that no per-read socket timeout ever fires), not a synchronisation."""
        self.close_connection = True
        payload = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n" if route.in_head else b""
        if not route.in_head:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.flush()
        payload += b"<html>" + b"." * 10_000
        for byte in payload:
            if self.site.stopping.wait(route.interval):
                return
            try:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
            except OSError:
                return


@contextlib.contextmanager
def public_site(site: PublicSite, address: tuple[str, int], hits: HitLog) -> Iterator[tuple[str, int]]:
    """Serve ``site`` on ``address``; requests are recorded in ``hits`` and in ``site.served``."""
    handler = type("PublicHandler", (_PublicHandler,), {"site": site})
    try:
        with serving(LabServer(address, handler, "public", hits, record_connections=False)) as bound:
            yield bound
    finally:
        site.stopping.set()
