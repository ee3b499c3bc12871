"""The owner's music folder (``MUSIC_DIR``): searched by tags and file names, played through the egress gate.

Only regular audio files whose real path is inside the folder count: a symlink that leads out of it,
a ``..`` step or an absolute path is refused, however the name was written (typed, stored, imported).
The index is refreshed on each search: the folder is walked again (a few stat calls per file) and
only new or changed files have their tags read, so files added, changed or removed are seen at once.

Tracks from here carry a page URL on :data:`LIBRARY_HOST`, a name that resolves nowhere; the egress
proxy answers requests for it from the folder itself (:mod:`audio.library_http`), and only with the
per-process token in the path, so no site can redirect ffmpeg into the folder.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import threading
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import mutagen

from audio.errors import NothingFound, UrlRefused
from audio.track import Provider, Track

log = logging.getLogger(__name__)

LIBRARY_HOST = "library.brent.invalid"
LIBRARY_EXTENSIONS = frozenset({".mp3", ".ogg", ".opus", ".m4a", ".aac", ".flac", ".wav", ".webm", ".mka"})
MSG_OUTSIDE = "That file is not in the music library."
MSG_NO_MATCH = "Nothing in the music library matches that."
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True, slots=True)
class LibraryEntry:
    """One file: its path inside the folder (``/``-separated) and what its tags say."""

    path: str
    title: str
    artist: str | None
    album: str | None
    duration: float | None
    words: frozenset[str]  # of tags and file name, case-folded, for search


def _words(*texts: str | None) -> frozenset[str]:
    return frozenset(w.casefold() for text in texts if text for w in _WORD.findall(text))


def _first(tags: object, key: str) -> str | None:
    values = tags.get(key) if hasattr(tags, "get") else None
    if isinstance(values, list) and values and isinstance(values[0], str) and values[0].strip():
        return values[0].strip()[:300]
    return None


def read_entry(root: Path, relative: str) -> LibraryEntry:
    """The tags of one file (``mutagen``); a file it cannot read is listed by its name alone."""
    name = Path(relative).stem
    title = artist = album = None
    duration: float | None = None
    try:
        found = mutagen.File(root / relative, easy=True)
    except Exception as exc:  # noqa: BLE001  (a damaged file must not break the index)
        log.debug("library: no tags read from %r: %r", relative, exc)
        found = None
    if found is not None:
        tags = found.tags or {}
        title, artist, album = _first(tags, "title"), _first(tags, "artist"), _first(tags, "album")
        length = getattr(found.info, "length", None)
        duration = float(length) if isinstance(length, int | float) and length > 0 else None
    return LibraryEntry(
        relative, title or name, artist, album, duration, _words(title, artist, album, relative.replace("/", " "))
    )


class LocalLibrary:
    """The index of one music folder; every method may block (call it from a worker thread)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self.token = secrets.token_urlsafe(18)  # in every stream URL; the proxy serves nothing without it
        self._entries: dict[str, tuple[tuple[int, int], LibraryEntry]] = {}
        self._lock = threading.Lock()

    def inside(self, relative: str) -> Path:
        """The real file for a library path, or UrlRefused when it is not a library file."""
        parts = relative.split("/")
        if not relative or relative.startswith("/") or "\\" in relative or any(p in ("", ".", "..") for p in parts):
            raise UrlRefused(MSG_OUTSIDE, detail=f"library path {relative!r}")
        real = (self.root / relative).resolve()
        if not real.is_relative_to(self.root) or not real.is_file():
            raise UrlRefused(MSG_OUTSIDE, detail=f"library path {relative!r} leaves the folder or is no file")
        if real.suffix.lower() not in LIBRARY_EXTENSIONS:
            raise UrlRefused(MSG_OUTSIDE, detail=f"library path {relative!r} is not audio")
        return real

    def refresh(self) -> list[LibraryEntry]:
        """Walk the folder again; read tags only of files that are new or changed since last time."""
        seen: dict[str, tuple[tuple[int, int], LibraryEntry]] = {}
        for folder, dirs, files in os.walk(self.root, followlinks=False):
            dirs.sort()
            for name in sorted(files):
                if Path(name).suffix.lower() not in LIBRARY_EXTENSIONS:
                    continue
                relative = Path(folder, name).relative_to(self.root).as_posix()
                try:
                    real = self.inside(relative)
                    stat = real.stat()
                except (UrlRefused, OSError):
                    continue  # a link out of the folder, or gone meanwhile
                key = (stat.st_size, stat.st_mtime_ns)
                known = self._entries.get(relative)
                seen[relative] = known if known is not None and known[0] == key else (key, read_entry(self.root, relative))
        with self._lock:
            self._entries = seen
        return [entry for _, entry in seen.values()]

    def search(self, words: str, limit: int = 1) -> list[LibraryEntry]:
        """The files whose tags and name hold the most of ``words``, best first (ties by path)."""
        wanted = _words(words)
        if not wanted:
            raise NothingFound(MSG_NO_MATCH, detail="no words")
        scored = [
            (len(wanted & entry.words), entry) for entry in self.refresh() if wanted & entry.words
        ]
        scored.sort(key=lambda pair: (-pair[0], pair[1].path))
        best = [entry for score, entry in scored if score == len(wanted)] or [entry for _, entry in scored]
        if not best:
            raise NothingFound(MSG_NO_MATCH, detail=f"{len(wanted)} words")
        return best[:limit]


def track_of(entry: LibraryEntry, requester_id: int | None) -> Track:
    return Track(
        entry.title, page_url_of(entry.path), entry.duration, entry.artist, None, Provider.LOCAL, requester_id
    )


def page_url_of(relative: str) -> str:
    return f"http://{LIBRARY_HOST}/{urllib.parse.quote(relative)}"


def library_path(page_url: str) -> str:
    """The library path a track's page URL names (percent-decoded; checked by :meth:`LocalLibrary.inside`)."""
    parts = urllib.parse.urlsplit(page_url)
    if parts.hostname != LIBRARY_HOST:
        raise UrlRefused(MSG_OUTSIDE, detail="not a library URL")
    return urllib.parse.unquote(parts.path.removeprefix("/"))
