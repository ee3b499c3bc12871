"""`lyrics`: the current track's words from LRCLIB (lrclib.net, public, no key), synced where it has them.

The query is the track's artist and title, cleaned of what only video titles carry; of LRCLIB's
answers the one nearest in length is taken, synced lyrics preferred. Synced lyrics are shown around
where the track is now (the current line marked), plain ones from the top, within one message. The
answer is fetched through the egress gate like every other page.
"""

from __future__ import annotations

import json
import logging
import re
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from audio.errors import NothingFound
from audio.extractor.stand_in import search_words
from audio.track import Track

if TYPE_CHECKING:
    from audio.extractor import Extractor

log = logging.getLogger(__name__)

LRCLIB_URL = "https://lrclib.net/api/search"
MSG_NONE = "LRCLIB has no lyrics for this track."
_SYNCED_LINE = re.compile(r"^\[(\d{1,3}):(\d{2}(?:\.\d{1,3})?)\]\s?(.*)$")


@dataclass(frozen=True, slots=True)
class Lyrics:
    title: str
    artist: str
    synced: tuple[tuple[float, str], ...]  # (seconds, line), in order; empty when only plain text exists
    plain: str
    instrumental: bool = False


def lyrics_query(track: Track) -> dict[str, str]:
    """LRCLIB's search fields for a track: "Artist - Song" titles are split, else the uploader is the artist."""
    words = search_words(track.title, None)
    if " - " in words:
        artist, title = (part.strip() for part in words.split(" - ", 1))
        return {"artist_name": artist, "track_name": title}
    query = {"track_name": words}
    if track.uploader:
        query["artist_name"] = track.uploader.removesuffix(" - Topic").removesuffix("VEVO").strip()
    return query


def parse_synced(text: str) -> tuple[tuple[float, str], ...]:
    lines = []
    for raw in text.splitlines():
        found = _SYNCED_LINE.match(raw.strip())
        if found:
            lines.append((int(found.group(1)) * 60 + float(found.group(2)), found.group(3).strip()))
    return tuple(lines)


def best_lyrics(answer: str, duration: float | None) -> Lyrics:
    """Of LRCLIB's search answer, the entry nearest ``duration`` (synced first); NothingFound when none."""
    try:
        entries = json.loads(answer)
    except ValueError:
        entries = None
    usable = [e for e in entries if isinstance(e, Mapping) and _text(e, "trackName")] if isinstance(entries, list) else []
    if not usable:
        raise NothingFound(MSG_NONE, detail="lrclib: no entries")

    def rank(entry: Mapping[str, Any]) -> tuple[bool, float]:
        length = entry.get("duration")
        gap = abs(float(length) - duration) if duration is not None and isinstance(length, int | float) else 0.0
        return (not _text(entry, "syncedLyrics"), gap)

    entry = min(usable, key=rank)
    return Lyrics(
        _text(entry, "trackName"), _text(entry, "artistName"), parse_synced(_text(entry, "syncedLyrics")),
        _text(entry, "plainLyrics"), entry.get("instrumental") is True,
    )


def _text(entry: Mapping[str, Any], key: str) -> str:
    value = entry.get(key)
    return value.strip() if isinstance(value, str) else ""


async def find_lyrics(extractor: Extractor, track: Track) -> Lyrics:
    url = f"{LRCLIB_URL}?{urllib.parse.urlencode(lyrics_query(track))}"
    return best_lyrics(await extractor.page(url), track.duration)


def excerpt(lyrics: Lyrics, position: float | None, budget: int, clean: Callable[[str], str]) -> list[str]:
    """The lines to show within ``budget`` characters: around ``position`` when synced (the current
    line marked), else from the top; ``clean`` makes each line of the service's text safe to post."""
    if lyrics.synced:
        passed = [i for i, (at, _) in enumerate(lyrics.synced) if position is not None and at <= position]
        now = passed[-1] if passed else None
        lines = [_line(at, clean(text), current=i == now) for i, (at, text) in enumerate(lyrics.synced)]
        return _fit(lines[max(0, (now or 0) - 3) :], budget)
    return _fit([clean(line) for line in lyrics.plain.splitlines()], budget)


def _line(at: float, text: str, *, current: bool) -> str:
    minutes, seconds = divmod(int(at), 60)
    return f"{'▶' if current else '  '} `{minutes}:{seconds:02d}` {text or '♪'}"


def _fit(lines: Sequence[str], budget: int) -> list[str]:
    kept: list[str] = []
    used = 0
    for line in lines:
        if used + len(line) + 1 > budget:
            kept.append("…")
            break
        kept.append(line)
        used += len(line) + 1
    return kept
