"""HTTP/1.1 on the wire for the egress proxy: canned answers, request-head parsing, relaying.

Only what a forward proxy for yt-dlp, ffmpeg and ffprobe needs; anything unusual is refused with
``400`` rather than interpreted (a proxy that guesses is one a client can confuse).
"""

from __future__ import annotations

import asyncio
import logging

log = logging.getLogger(__name__)

RELAY_CHUNK = 64 * 1024

HOP_BY_HOP = frozenset({
    "connection", "proxy-connection", "keep-alive", "proxy-authorization", "proxy-authenticate",
    "te", "trailer", "upgrade", "expect",
})

# One answer for every refusal and every failure: nothing tells a refused address from a closed port.
BAD_GATEWAY = (
    b"HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\nContent-Length: 24\r\n"
    b"Connection: close\r\n\r\nconnection not possible\n"
)
AUTH_REQUIRED = (
    b'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="brent"\r\n'
    b"Content-Length: 0\r\nConnection: close\r\n\r\n"
)
BAD_REQUEST = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
LENGTH_REQUIRED = b"HTTP/1.1 411 Length Required\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
TUNNEL_OPEN = b"HTTP/1.1 200 Connection established\r\n\r\n"


class Reject(Exception):
    """End a client connection with ``answer`` (one of the canned responses above)."""

    def __init__(self, answer: bytes, why: str) -> None:
        super().__init__(why)
        self.answer = answer


async def pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter | None, limit: int | None) -> None:
    """Copy until the end or until ``writer`` is closing; with no writer, read and drop (to notice a
    hang-up)."""
    copied = 0
    while data := await reader.read(RELAY_CHUNK):
        copied += len(data)
        if limit is not None and copied > limit:
            log.info("egress proxy closed a lookup connection after %d bytes", limit)
            return
        if writer is not None:
            if writer.is_closing():
                # Closed under us (the other direction ended, or shutdown). asyncio 3.11 crashes in
                # write() on a transport that was closed with data still buffered.
                return
            writer.write(data)
            await writer.drain()


async def relay_response_head(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Pass the origin's response head on with ``Connection: close``: the client must not reuse this
    connection for a request to another host, which would skip that host's check."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.LimitOverrunError:
        raise Reject(BAD_GATEWAY, "response head too large") from None
    lines = head.decode("latin-1").split("\r\n")
    kept = [lines[0]]
    for line in lines[1:]:
        if line and line.partition(":")[0].strip().lower() not in HOP_BY_HOP:
            kept.append(line)
    writer.write(("\r\n".join([*kept, "Connection: close", "", ""])).encode("latin-1"))


async def copy_exactly(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, length: int) -> None:
    while length > 0:
        data = await reader.read(min(RELAY_CHUNK, length))
        if not data:
            raise asyncio.IncompleteReadError(b"", length)
        writer.write(data)
        length -= len(data)
        await writer.drain()


def parse_headers(lines: list[str]) -> list[tuple[str, str]]:
    """(lower-cased name, value) pairs; a line that is not ``Name: value`` refuses the request."""
    headers: list[tuple[str, str]] = []
    for line in lines:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip() or any(c in name for c in " \t"):
            raise Reject(BAD_REQUEST, "malformed header line")
        headers.append((name.lower(), value.strip()))
    return headers


def content_length(headers: list[tuple[str, str]]) -> int:
    values = {v for n, v in headers if n == "content-length"}
    if not values:
        return 0
    if len(values) > 1 or not next(iter(values)).isdigit():
        raise Reject(BAD_REQUEST, "bad Content-Length")
    return int(next(iter(values)))


def split_authority(target: str) -> tuple[str, int]:
    """``host:port`` or ``[v6]:port`` of a CONNECT request."""
    if target.startswith("["):
        host, sep, rest = target[1:].partition("]")
        if not sep or not rest.startswith(":"):
            raise Reject(BAD_REQUEST, "bad CONNECT target")
        port_text = rest[1:]
    else:
        host, sep, port_text = target.rpartition(":")
        if not sep:
            raise Reject(BAD_REQUEST, "CONNECT target without a port")
    if not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise Reject(BAD_REQUEST, "bad CONNECT target")
    return host, int(port_text)

