"""The egress proxy's answer for :data:`~audio.local_library.LIBRARY_HOST`: a file of the music folder.

ffmpeg and ffprobe reach library files the way they reach every site, through the proxy, so no
``file:`` protocol is ever whitelisted. The path must start with the library's per-process token (a
site redirecting ffmpeg here cannot know it) and must name a file inside the folder
(:meth:`LocalLibrary.inside`); anything else gets the proxy's one refusal. Ranges are served so
ffmpeg can seek (``-ss`` on http asks for a byte range).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import re
import urllib.parse
from pathlib import Path

from audio import proxy_wire as wire
from audio.errors import UrlRefused
from audio.local_library import LocalLibrary

log = logging.getLogger(__name__)

_RANGE = re.compile(r"^bytes=(\d+)-(\d*)$")
_TYPES = {
    ".mp3": "audio/mpeg", ".ogg": "audio/ogg", ".opus": "audio/ogg", ".m4a": "audio/mp4", ".aac": "audio/aac",
    ".flac": "audio/flac", ".wav": "audio/wav", ".webm": "audio/webm", ".mka": "audio/x-matroska",
}  # fmt: skip
NOT_SATISFIABLE = b"HTTP/1.1 416 Range Not Satisfiable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


def _byte_range(value: str | None, size: int) -> tuple[int, int] | None:
    """``(first, last)`` of a ``Range: bytes=a-[b]`` header; None for the whole file."""
    if value is None:
        return None
    found = _RANGE.match(value.strip())
    if found is None:
        raise wire.Reject(wire.BAD_REQUEST, "library: a range form that is not served")
    first = int(found.group(1))
    last = min(int(found.group(2)), size - 1) if found.group(2) else size - 1
    if first >= size or last < first:
        raise wire.Reject(NOT_SATISFIABLE, "library: range past the end")
    return first, last


def library_file(library: LocalLibrary, path: str) -> Path:
    """The file a request path ``/<token>/<quoted library path>`` names, or the one refusal."""
    token, _, rest = path.removeprefix("/").partition("/")
    if not hmac.compare_digest(token.encode(), library.token.encode()):
        raise wire.Reject(wire.BAD_GATEWAY, "library: wrong token")
    try:
        return library.inside(urllib.parse.unquote(rest))
    except UrlRefused as exc:
        raise wire.Reject(wire.BAD_GATEWAY, f"library: {exc}") from None


async def serve(
    library: LocalLibrary, method: str, path: str, range_header: str | None, writer: asyncio.StreamWriter
) -> None:
    """Answer one GET or HEAD for a library file on ``writer`` (the connection then closes)."""
    if method not in ("GET", "HEAD"):
        raise wire.Reject(wire.BAD_REQUEST, f"library: {method}")
    file = await asyncio.to_thread(library_file, library, path)
    size = file.stat().st_size
    span = _byte_range(range_header, size) if size else None
    first, last = span if span is not None else (0, size - 1)
    head = [
        "HTTP/1.1 206 Partial Content" if span is not None else "HTTP/1.1 200 OK",
        f"Content-Type: {_TYPES.get(file.suffix.lower(), 'application/octet-stream')}",
        f"Content-Length: {last - first + 1 if size else 0}",
        "Accept-Ranges: bytes",
        "Connection: close",
    ]
    if span is not None:
        head.append(f"Content-Range: bytes {first}-{last}/{size}")
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
    if method == "HEAD" or not size:
        await writer.drain()
        return
    with await asyncio.to_thread(file.open, "rb") as handle:
        await asyncio.to_thread(handle.seek, first)
        left = last - first + 1
        while left > 0:
            chunk = await asyncio.to_thread(handle.read, min(wire.RELAY_CHUNK, left))
            if not chunk:
                break  # the file shrank while it was read; the client sees a short body
            left -= len(chunk)
            writer.write(chunk)
            await writer.drain()
