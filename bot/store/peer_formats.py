"""Playlist files other music bots write, turned into BRENT's plain entries (url, title, length, uploader).

Red's ``playlist download`` JSON (schema 2: a ``tracks`` list of Lavalink track objects, and a
``playlist`` list of their URLs) and Vocard's ``playlist export`` text (a readable listing, then one
line of comma-separated Lavalink track codes). A Lavalink code is a base64 binary record; its link
is read from it, nothing is looked up. Pure functions; every problem is a PlaylistImportError that
names the format and what is missing.
"""

from __future__ import annotations

import base64
import binascii
import logging
import struct
from dataclasses import dataclass
from typing import Any

from bot.store.errors import PlaylistImportError

log = logging.getLogger(__name__)

VOCARD_FIRST_LINE = "!Remember do not change this file!"
VOCARD_RAW_MARKER = "Raw Info"
YOUTUBE_WATCH = "https://www.youtube.com/watch?v="


@dataclass(frozen=True, slots=True)
class PeerEntry:
    """One track as another bot stored it; ``url`` is None when the file does not say it."""

    url: str | None
    title: str | None = None
    duration: float | None = None
    uploader: str | None = None

    def as_fields(self) -> dict[str, Any]:
        return {"url": self.url, "title": self.title, "duration": self.duration, "uploader": self.uploader}


def is_red_export(document: object) -> bool:
    return isinstance(document, dict) and "format" not in document and "schema" in document and (
        "playlist" in document or "tracks" in document
    )


def red_entries(document: dict[str, Any]) -> tuple[str | None, list[PeerEntry]]:
    """(name, entries) of a Red export: its Lavalink tracks when present, else its list of URLs."""
    name = document.get("name") if isinstance(document.get("name"), str) else None
    tracks = document.get("tracks")
    if isinstance(tracks, list) and tracks:
        entries = []
        for number, track in enumerate(tracks, start=1):
            info = track.get("info") if isinstance(track, dict) else None
            if not isinstance(info, dict):
                raise PlaylistImportError(f"Red playlist: track {number} has no info object.")
            entries.append(_lavalink_entry(info))
        return name, entries
    urls = document.get("playlist")
    if not isinstance(urls, list):
        raise PlaylistImportError('Red playlist: the file has neither a "tracks" nor a "playlist" list.')
    return name, [PeerEntry(url if isinstance(url, str) else None) for url in urls]


def _lavalink_entry(info: dict[str, Any]) -> PeerEntry:
    length = info.get("length")
    seconds = length / 1000 if isinstance(length, int | float) and not isinstance(length, bool) and length > 0 else None
    if info.get("isStream") is True:
        seconds = None
    uri = info.get("uri")
    if not isinstance(uri, str) and info.get("sourceName") == "youtube" and isinstance(info.get("identifier"), str):
        uri = YOUTUBE_WATCH + info["identifier"]
    title, author = info.get("title"), info.get("author")
    return PeerEntry(
        uri if isinstance(uri, str) else None,
        title if isinstance(title, str) else None,
        seconds,
        author if isinstance(author, str) else None,
    )


def is_vocard_export(text: str) -> bool:
    return text.lstrip("\ufeff \t\r\n").startswith(VOCARD_FIRST_LINE)


def vocard_entries(text: str) -> tuple[str | None, list[PeerEntry]]:
    """(name, entries) of a Vocard export: the name from its ``Playlist:`` line, tracks from the codes."""
    lines = [line.strip() for line in text.splitlines()]
    try:
        marker = next(i for i, line in enumerate(lines) if VOCARD_RAW_MARKER in line)
    except StopIteration:
        raise PlaylistImportError("Vocard playlist: the Raw Info section with the track codes is missing.") from None
    codes = [code.strip() for line in lines[marker + 1 :] for code in line.split(",") if code.strip()]
    if not codes:
        raise PlaylistImportError("Vocard playlist: the Raw Info section has no track codes.")
    name = None
    for line in lines[:marker]:
        if line.startswith("Playlist:"):
            name = line.removeprefix("Playlist:").rsplit("(", 1)[0].strip() or None
            break
    entries = []
    for number, code in enumerate(codes, start=1):
        try:
            entries.append(_lavalink_entry(decode_lavalink_track(code)))
        except ValueError:
            raise PlaylistImportError(f"Vocard playlist: track code {number} is damaged.") from None
    return name, entries


def decode_lavalink_track(code: str) -> dict[str, Any]:
    """The info fields of a Lavalink track code (message format versions 1 to 3); ValueError if damaged."""
    try:
        data = base64.b64decode(code, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("not base64") from None
    reader = _Reader(data)
    header = reader.unpack(">I")
    flags = header >> 30
    version = reader.unpack(">B") if flags & 1 else 1
    info: dict[str, Any] = {
        "title": reader.text(),
        "author": reader.text(),
        "length": reader.unpack(">q"),
        "identifier": reader.text(),
        "isStream": bool(reader.unpack(">?")),
    }
    if version >= 2:
        info["uri"] = reader.optional_text()
    if version >= 3:
        info["artworkUrl"] = reader.optional_text()
        info["isrc"] = reader.optional_text()
    info["sourceName"] = reader.text()
    return info


class _Reader:
    """Big-endian fields and Java's length-prefixed UTF strings, refusing to read past the end."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._at = 0

    def unpack(self, fmt: str) -> Any:
        size = struct.calcsize(fmt)
        if self._at + size > len(self._data):
            raise ValueError("truncated")
        (value,) = struct.unpack_from(fmt, self._data, self._at)
        self._at += size
        return value

    def text(self) -> str:
        size = self.unpack(">H")
        if self._at + size > len(self._data):
            raise ValueError("truncated")
        raw = self._data[self._at : self._at + size]
        self._at += size
        return raw.decode("utf-8", errors="replace")

    def optional_text(self) -> str | None:
        return self.text() if self.unpack(">?") else None
