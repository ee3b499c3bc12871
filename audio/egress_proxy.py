"""The one gate every connection made on a user's behalf goes through: a forward proxy on 127.0.0.1.

Checking a link before yt-dlp or ffmpeg fetch it is not enough: they open their own connections
afterwards, follow redirects, fetch HLS segments and keys, reconnect mid-stream and resolve names
again (DNS rebinding). So neither of them connects anywhere by itself. yt-dlp gets this proxy as its
``proxy`` option, ffmpeg and ffprobe get it as ``http_proxy`` in their environment (which every
nested open inherits: segments, keys, reconnects). For each request the proxy resolves the name
once, checks every address against the :class:`~audio.url_policy.UrlPolicy`, and connects to
exactly an address it checked. A redirect is a new request from the client, so each hop is checked.
``CONNECT`` (https) tunnels bytes, so TLS stays end to end between the client and the site.

Every refusal and every failed connection gets the same answer (``502``), so a member cannot tell an
open internal port from a closed one. The proxy wants a random credential (Basic auth), so other
programs on the machine (a browser page, say) cannot use it; the user name says who is asking:
``lookup`` connections (yt-dlp) live at most ``lookup_lifetime`` seconds and carry at most
``lookup_bytes``, ``media`` connections (ffmpeg, ffprobe) stream for as long as the track plays.

It runs its own event loop on its own thread, so relaying audio bytes never waits for the bot's loop.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import enum
import hmac
import logging
import os
import secrets
import threading
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass

from audio import library_http
from audio import proxy_wire as wire
from audio.errors import UrlRefused
from audio.local_library import LIBRARY_HOST, LocalLibrary
from audio.upstream_proxy import UpstreamProxy
from audio.url_policy import UrlPolicy

log = logging.getLogger(__name__)

MAX_HEAD_BYTES = 64 * 1024
DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_LOOKUP_LIFETIME = 30.0
DEFAULT_LOOKUP_BYTES = 64 * 1024 * 1024
HEAD_TIMEOUT = 15.0  # a client that does not finish its request head in this long is dropped

# ffmpeg reads these; a user's own setting must not route around the gate.
_PROXY_ENV = ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY",
              "no_proxy", "NO_PROXY")
class ClientKind(enum.StrEnum):
    """Who is asking, told by the proxy credential's user name."""

    LOOKUP = "lookup"  # yt-dlp: web pages and APIs, bounded in time and size
    MEDIA = "media"  # ffmpeg and ffprobe: audio for as long as a track plays


@dataclass(frozen=True, slots=True)
class _Request:
    """One parsed request head: where to connect and, for plain http, what to send there."""

    kind: ClientKind
    host: str
    port: int
    tunnel: bool
    head: bytes = b""  # the rewritten request head for the origin (plain http only)
    body_length: int = 0
    method: str = ""  # plain http: for the music library's own answers (audio/library_http.py)
    path: str = ""
    range_header: str | None = None


def ffmpeg_environment(proxy_url: str, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for an ffmpeg or ffprobe process: ``base`` with only our proxy in it.

    ffmpeg's http and tls protocols read ``http_proxy`` (and ``no_proxy``) for every open, including
    the ones an HLS playlist or a redirect makes, which an argv option would not reach.
    """
    env = {k: v for k, v in (os.environ if base is None else base).items() if k not in _PROXY_ENV}
    env["http_proxy"] = proxy_url
    return env


class EgressProxy:
    """A forward proxy on 127.0.0.1 that only connects where ``policy`` allows.

    ``start()`` binds an ephemeral port and starts the proxy's thread; :meth:`url` starts it on
    first use, so a bot that never plays anything never runs one. ``close()`` ends every connection.
    """

    def __init__(
        self,
        policy: UrlPolicy,
        *,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        lookup_lifetime: float = DEFAULT_LOOKUP_LIFETIME,
        lookup_bytes: int = DEFAULT_LOOKUP_BYTES,
        library: LocalLibrary | None = None,
        upstream: UpstreamProxy | None = None,
    ) -> None:
        self.policy = policy
        self.upstream = upstream  # the owner's proxy every checked connection goes through, if any
        self.library = library  # answers LIBRARY_HOST itself; without one that name is refused like any
        self.connect_timeout = connect_timeout
        self.lookup_lifetime = lookup_lifetime
        self.lookup_bytes = lookup_bytes
        self._secret = secrets.token_urlsafe(24)
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._streams: set[asyncio.StreamWriter] = set()  # both ends of every open connection
        self._port = 0
        self._closed = False

    def __repr__(self) -> str:
        return f"EgressProxy(port={self._port}, policy={self.policy!r})"  # never the credential

    @property
    def port(self) -> int:
        self.start()
        return self._port

    def url(self, kind: ClientKind) -> str:
        """``http://<kind>:<secret>@127.0.0.1:<port>``: the proxy setting for one kind of client."""
        port = self.port
        return f"http://{kind.value}:{self._secret}@127.0.0.1:{port}"

    def ffmpeg_environment(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        return ffmpeg_environment(self.url(ClientKind.MEDIA), base)

    def start(self) -> None:
        """Bind and serve; safe to call again and from any thread."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the egress proxy is closed")
            if self._thread is not None:
                return
            loop = asyncio.new_event_loop()
            ready = threading.Event()
            thread = threading.Thread(target=self._run, args=(loop, ready), name="egress-proxy", daemon=True)
            thread.start()
            ready.wait()
            if self._server is None:
                loop.call_soon_threadsafe(loop.stop)
                thread.join()
                loop.close()
                raise RuntimeError("the egress proxy could not bind 127.0.0.1")
            self._loop, self._thread = loop, thread
            log.info("egress proxy listening on 127.0.0.1:%d", self._port)

    def close(self) -> None:
        """Stop listening and drop every connection; joins the thread."""
        with self._lock:
            self._closed = True
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop already stopped
            loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)

    # -- the proxy's thread ------------------------------------------------------------------

    def _run(self, loop: asyncio.AbstractEventLoop, ready: threading.Event) -> None:
        asyncio.set_event_loop(loop)
        try:
            self._server = loop.run_until_complete(
                asyncio.start_server(self._serve, "127.0.0.1", 0, limit=MAX_HEAD_BYTES)
            )
            self._port = self._server.sockets[0].getsockname()[1]
        except OSError:
            log.exception("the egress proxy could not start")
        finally:
            ready.set()
        if self._server is not None:
            loop.run_forever()  # until close() stops it
            loop.run_until_complete(self._shutdown())
        loop.close()

    async def _shutdown(self) -> None:
        """Close every connection; their tasks then end on their own (a connection accepted in
        the last moment sees ``_closed`` when its task starts)."""
        assert self._server is not None
        self._server.close()
        for _ in range(10):  # an accepted connection takes a few loop turns to start its task
            await asyncio.sleep(0)
        for stream in list(self._streams):
            _end(stream, closing=True)
        others = asyncio.all_tasks() - {asyncio.current_task()}
        if others:
            _, stuck = await asyncio.wait(others, timeout=2)
            for task in stuck:
                task.cancel()
            if stuck:  # let them unwind here: a task left pending is torn down half-way by loop.close()
                await asyncio.wait(stuck, timeout=2)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._streams.add(writer)
        upstream: asyncio.StreamWriter | None = None
        try:
            if self._closed:
                return
            request = await asyncio.wait_for(self._read_request(reader), HEAD_TIMEOUT)
            if request.host == LIBRARY_HOST and not request.tunnel:
                await self._from_library(request, writer)
                return
            deadline = (
                asyncio.get_running_loop().time() + self.lookup_lifetime
                if request.kind is ClientKind.LOOKUP else None
            )
            origin_reader, upstream = await self._connect(request)
            self._streams.add(upstream)
            if request.tunnel:
                writer.write(wire.TUNNEL_OPEN)
            else:
                upstream.write(request.head)
                if request.body_length:
                    await wire.copy_exactly(reader, upstream, request.body_length)
            limit = self.lookup_bytes if request.kind is ClientKind.LOOKUP else None
            relay = self._relay(reader, writer, origin_reader, upstream, request, limit)
            if deadline is None:
                await relay
            else:
                await asyncio.wait_for(relay, max(0.0, deadline - asyncio.get_running_loop().time()))
        except wire.Reject as reject:
            log.log(
                logging.INFO if reject.answer is wire.BAD_GATEWAY else logging.DEBUG,
                "egress proxy refused a connection: %s", reject,
            )
            with contextlib.suppress(OSError):
                writer.write(reject.answer)
                await writer.drain()
        except TimeoutError:
            log.info("egress proxy closed a connection at its time limit")
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
            log.debug("egress proxy connection ended: %r", exc)
        except asyncio.CancelledError:
            if not self._closed:
                raise
            # Cancelled by the shutdown: end normally, as asyncio's stream callback (3.11) would
            # log the task's CancelledError as an error.
        finally:
            opened = [each for each in (upstream, writer) if each is not None]
            for each in opened:
                self._streams.discard(each)
                _end(each, closing=self._closed)
            try:
                for each in opened:
                    with contextlib.suppress(Exception):
                        await each.wait_closed()
            except asyncio.CancelledError:
                if not self._closed:
                    raise

    async def _read_request(self, reader: asyncio.StreamReader) -> _Request:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.LimitOverrunError:
            raise wire.Reject(wire.BAD_REQUEST, "request head too large") from None
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            raise wire.Reject(wire.BAD_REQUEST, "not an HTTP/1.x request line")
        method, target, version = parts
        headers = wire.parse_headers(lines[1:])
        kind = self._authorise(headers)
        if method == "CONNECT":
            host, port = wire.split_authority(target)
            return _Request(kind, host, port, tunnel=True)
        url = urllib.parse.urlsplit(target)
        if url.scheme.lower() != "http" or not url.hostname:
            raise wire.Reject(wire.BAD_REQUEST, "only absolute http:// targets (and CONNECT) are proxied")
        try:
            port = url.port or 80
        except ValueError:
            raise wire.Reject(wire.BAD_REQUEST, "bad port") from None
        if url.username is not None or url.password is not None:
            raise wire.Reject(wire.BAD_REQUEST, "user-info in the target")
        if any(name == "transfer-encoding" for name, _ in headers):
            raise wire.Reject(wire.LENGTH_REQUIRED, "chunked request body")
        length = wire.content_length(headers)
        path = url.path or "/"
        if url.query:
            path += "?" + url.query
        kept = [(n, v) for n, v in headers if n not in wire.HOP_BY_HOP and n != "host"]
        authority = url.netloc.rsplit("@", 1)[-1]
        out = [f"{method} {path} {version}", f"Host: {authority}", *(f"{n}: {v}" for n, v in kept),
               "Connection: close", "", ""]
        range_header = next((v for n, v in headers if n == "range"), None)
        return _Request(kind, url.hostname, port, tunnel=False, head="\r\n".join(out).encode("latin-1"),
                        body_length=length, method=method, path=path, range_header=range_header)

    async def _from_library(self, request: _Request, writer: asyncio.StreamWriter) -> None:
        """Media clients read music-library files here; nothing else reaches the folder."""
        if self.library is None or request.kind is not ClientKind.MEDIA:
            raise wire.Reject(wire.BAD_GATEWAY, f"{request.kind} to the music library")
        await library_http.serve(self.library, request.method, request.path, request.range_header, writer)

    def _authorise(self, headers: list[tuple[str, str]]) -> ClientKind:
        value = next((v for n, v in headers if n == "proxy-authorization"), "")
        scheme, _, encoded = value.partition(" ")
        if scheme.lower() != "basic":
            raise wire.Reject(wire.AUTH_REQUIRED, "no proxy credential")
        try:
            user, _, password = base64.b64decode(encoded.strip(), validate=True).decode("latin-1").partition(":")
        except (binascii.Error, ValueError):
            raise wire.Reject(wire.AUTH_REQUIRED, "malformed proxy credential") from None
        if not hmac.compare_digest(password.encode("latin-1"), self._secret.encode("ascii")):
            raise wire.Reject(wire.AUTH_REQUIRED, "wrong proxy credential")
        try:
            return ClientKind(user)
        except ValueError:
            raise wire.Reject(wire.AUTH_REQUIRED, "unknown proxy user") from None

    async def _connect(self, request: _Request) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """Resolve once, check every address, connect to one of exactly those addresses."""
        loop = asyncio.get_running_loop()
        try:
            addresses = await loop.run_in_executor(None, self.policy.connectable_addresses, request.host)
        except UrlRefused as exc:
            raise wire.Reject(wire.BAD_GATEWAY, f"{request.kind} to {request.host!r}:{request.port}: {exc}") from None
        failures: list[str] = []
        for address in addresses:
            try:
                if self.upstream is not None:
                    return await self.upstream.open(address, request.port, self.connect_timeout)
                return await asyncio.wait_for(
                    asyncio.open_connection(str(address), request.port, limit=wire.RELAY_CHUNK), self.connect_timeout
                )
            except (OSError, TimeoutError) as exc:
                failures.append(f"{address}: {exc!r}")
        raise wire.Reject(wire.BAD_GATEWAY, f"{request.kind} to {request.host!r}:{request.port} failed: {failures}")

    async def _relay(
        self,
        client_reader: asyncio.StreamReader,
        client_writer: asyncio.StreamWriter,
        origin_reader: asyncio.StreamReader,
        origin_writer: asyncio.StreamWriter,
        request: _Request,
        limit: int | None,
    ) -> None:
        """Copy both ways until either side ends. Plain http gets nothing more from the client
        (one request per connection), only its hang-up is watched for."""
        if not request.tunnel:
            await wire.relay_response_head(origin_reader, client_writer)
        upload = wire.pump(client_reader, origin_writer if request.tunnel else None, None)
        download = wire.pump(origin_reader, client_writer, limit)
        tasks = [asyncio.ensure_future(upload), asyncio.ensure_future(download)]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


def _end(stream: asyncio.StreamWriter, *, closing: bool) -> None:
    """Close ``stream``; while the proxy shuts down, without waiting to deliver what it still holds
    (a peer that stopped reading would keep a graceful close, and its task, waiting forever)."""
    if closing:
        stream.transport.abort()
    else:
        stream.close()
