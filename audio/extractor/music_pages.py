"""Spotify, Apple Music and Deezer links: which kind a link is, and the songs its public page names.

These sites are not played from (their audio is DRM-protected); their pages only say which songs a
link means, as title and artist, and BRENT plays a match of each from a search site. Pure functions
over the page text, so they are tested on recorded pages; the fetching is in
:mod:`audio.extractor.music_links`.

What each page gives: a Spotify track page its ``og:title`` and ``music:musician_description``, an
album or playlist page its songs' links (``music:song``, fetched one by one); an Apple Music page a
schema.org JSON-LD block (song, album with its tracks, playlist with its tracks); Deezer's public
API (no key) the same as JSON.
"""

from __future__ import annotations

import enum
import html
import json
import logging
import re
import urllib.parse
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from audio.errors import ExtractionError, NothingFound

log = logging.getLogger(__name__)

MSG_KIND = "{service} {kind} links can't be played; paste a track, album or playlist link."
MSG_SHORT = "Paste the full {service} link (short links are not followed)."
MSG_UNREADABLE = "I couldn't read the songs on that {service} page."


class Service(enum.StrEnum):
    SPOTIFY = "Spotify"
    APPLE = "Apple Music"
    DEEZER = "Deezer"


@dataclass(frozen=True, slots=True)
class MusicLink:
    service: Service
    kind: str  # track, album or playlist
    id: str
    url: str  # what to fetch for the songs it names


@dataclass(frozen=True, slots=True)
class Song:
    title: str
    artist: str | None

    @property
    def words(self) -> str:
        return f"{self.artist} {self.title}" if self.artist else self.title


_SPOTIFY = re.compile(r"^/(?:intl-[a-z]{2}(?:-[a-z]{2})?/)?(?P<kind>[a-z]+)/(?P<id>[A-Za-z0-9]{10,32})/?$")
_APPLE = re.compile(r"^/[a-z]{2}/(?P<kind>[a-z-]+)/(?:[^/]+/)?(?P<id>(?:pl\.)?[A-Za-z0-9.-]+)/?$")
_DEEZER = re.compile(r"^/(?:[a-z]{2}/)?(?P<kind>[a-z]+)/(?P<id>\d{1,20})/?$")
_PLAYABLE = ("track", "album", "playlist")
DEEZER_API = "https://api.deezer.com"


def music_link(text: str) -> MusicLink | None:
    """The music-site link ``text`` is, or None when it is not one (then it is an ordinary link or words)."""
    try:
        parts = urllib.parse.urlsplit(text.strip().strip("<>"))
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https"):
        return None
    if host in ("open.spotify.com", "play.spotify.com"):
        return _checked(Service.SPOTIFY, _SPOTIFY.match(parts.path), lambda kind, id_: f"https://open.spotify.com/{kind}/{id_}")
    if host == "spotify.link":
        raise ExtractionError(MSG_SHORT.format(service=Service.SPOTIFY), detail="spotify short link")
    if host in ("music.apple.com", "itunes.apple.com"):
        found = _APPLE.match(parts.path)
        song = urllib.parse.parse_qs(parts.query).get("i")
        if found is not None and found.group("kind") == "album" and song:
            return MusicLink(Service.APPLE, "track", song[0], urllib.parse.urlunsplit(parts._replace(fragment="")))
        kind = {"song": "track"}.get(found.group("kind"), found.group("kind")) if found else None
        if found is None or kind not in _PLAYABLE:
            raise ExtractionError(MSG_KIND.format(service=Service.APPLE, kind=kind or "these"), detail=parts.path)
        return MusicLink(Service.APPLE, kind, found.group("id"), urllib.parse.urlunsplit(parts._replace(fragment="")))
    if host in ("www.deezer.com", "deezer.com"):
        return _checked(Service.DEEZER, _DEEZER.match(parts.path), lambda kind, id_: f"{DEEZER_API}/{kind}/{id_}")
    if host in ("deezer.page.link", "link.deezer.com"):
        raise ExtractionError(MSG_SHORT.format(service=Service.DEEZER), detail="deezer short link")
    return None


def _checked(service: Service, found: re.Match[str] | None, url: Any) -> MusicLink:
    if found is None or found.group("kind") not in _PLAYABLE:
        kind = found.group("kind") if found is not None else "these"
        raise ExtractionError(MSG_KIND.format(service=service, kind=kind), detail=f"{service} {kind}")
    return MusicLink(service, found.group("kind"), found.group("id"), url(found.group("kind"), found.group("id")))


# --- reading pages ------------------------------------------------------------------------------

_META = re.compile(r"<meta\s+[^>]*>", re.IGNORECASE)
_ATTR = re.compile(r'(\w[\w:-]*)\s*=\s*"([^"]*)"')
_LD_JSON = re.compile(r'<script[^>]+type="application/ld\+json"[^>]*>(.*?)</script>', re.IGNORECASE | re.DOTALL)


def metas(page: str) -> list[tuple[str, str]]:
    """Every ``<meta property|name=... content=...>`` as (key, unescaped content), in page order."""
    found = []
    for tag in _META.findall(page):
        attrs = {k.lower(): html.unescape(v) for k, v in _ATTR.findall(tag)}
        key = attrs.get("property") or attrs.get("name")
        if key and "content" in attrs:
            found.append((key.lower(), attrs["content"].strip()))
    return found


def spotify_song(page: str) -> Song:
    """A Spotify track page's song."""
    values = metas(page)
    title = next((v for k, v in values if k == "og:title" and v), None)
    artist = next((v for k, v in values if k == "music:musician_description" and v), None)
    if artist is None:
        description = next((v for k, v in values if k == "og:description"), "")
        artist = description.split(" · ")[0].strip() or None if " · " in description else None
    if title is None:
        raise NothingFound(MSG_UNREADABLE.format(service=Service.SPOTIFY), detail="no og:title")
    return Song(title, artist)


def spotify_song_links(page: str) -> list[str]:
    """The track links a Spotify album or playlist page lists (``music:song``), in order."""
    links = [v for k, v in metas(page) if k == "music:song" and v.startswith("https://open.spotify.com/track/")]
    if not links:
        raise NothingFound(MSG_UNREADABLE.format(service=Service.SPOTIFY), detail="no music:song")
    return list(dict.fromkeys(links))


def _ld_blocks(page: str) -> Iterator[Mapping[str, Any]]:
    for block in _LD_JSON.findall(page):
        try:
            data = json.loads(html.unescape(block))
        except ValueError:
            continue
        for item in data if isinstance(data, list) else [data]:
            if isinstance(item, Mapping):
                yield item


def _artist(item: Mapping[str, Any]) -> str | None:
    by = item.get("byArtist")
    if isinstance(by, list):
        by = by[0] if by else None
    name = by.get("name") if isinstance(by, Mapping) else by
    return name.strip() if isinstance(name, str) and name.strip() else None


def _song(item: Any, fallback_artist: str | None) -> Song | None:
    if not isinstance(item, Mapping):
        return None
    name = item.get("name")
    if not isinstance(name, str) or not name.strip():
        return None
    return Song(html.unescape(name.strip()), _artist(item) or fallback_artist)


def apple_songs(page: str, kind: str, song_id: str | None = None) -> list[Song]:
    """An Apple Music page's song (track) or songs (album, playlist), from its JSON-LD; a song linked
    on its album's page (``album/...?i=<id>``) is the album track whose URL names that id."""
    for item in _ld_blocks(page):
        types = item.get("@type")
        if kind == "track" and types == "MusicRecording" and (song := _song(item, None)):
            return [song]
        if kind == "track" and types == "MusicAlbum":
            listed = item.get("tracks")
            wanted = [t for t in (listed if isinstance(listed, list) else []) if isinstance(t, Mapping) and _names_song(str(t.get("url", "")), song_id)]
            if song := _song(wanted[0] if wanted else item.get("audio"), _artist(item)):
                return [song]
        if kind in ("album", "playlist") and types in ("MusicAlbum", "MusicPlaylist"):
            tracks = item.get("tracks") or item.get("track") or []
            songs = [s for t in (tracks if isinstance(tracks, list) else []) if (s := _song(t, _artist(item)))]
            if songs:
                return songs
    raise NothingFound(MSG_UNREADABLE.format(service=Service.APPLE), detail=f"no JSON-LD {kind}")


def _names_song(url: str, song_id: str | None) -> bool:
    """An album track's URL names the song (``/song/<slug>/<id>`` or ``?i=<id>``)."""
    return bool(song_id) and (url.rstrip("/").endswith(f"/{song_id}") or f"i={song_id}" in url)


def deezer_songs(answer: str, kind: str) -> list[Song]:
    """Deezer's API answer for a track, album or playlist."""
    try:
        data = json.loads(answer)
    except ValueError:
        data = None
    if not isinstance(data, Mapping) or "error" in data:
        raise NothingFound(MSG_UNREADABLE.format(service=Service.DEEZER), detail="deezer api error")
    if kind == "track":
        song = _deezer_song(data)
        return [song] if song is not None else []
    tracks = data.get("tracks")
    items = tracks.get("data") if isinstance(tracks, Mapping) else None
    return [s for t in (items if isinstance(items, list) else []) if (s := _deezer_song(t))]


def _deezer_song(item: Any) -> Song | None:
    if not isinstance(item, Mapping) or not isinstance(item.get("title"), str):
        return None
    artist = item.get("artist")
    name = artist.get("name") if isinstance(artist, Mapping) else None
    return Song(item["title"].strip(), name.strip() if isinstance(name, str) else None)
