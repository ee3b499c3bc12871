"""Export and import playlists as JSON and M3U, so people can move them between bots.

Pure functions over text: no I/O, no database. Imports are untrusted input: size-capped before
parsing, every entry checked like a database row (http/https page URLs only), and any problem is a
PlaylistImportError that says which entry or line is wrong without echoing its content.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from audio.track import Provider, Track
from bot.store.errors import PlaylistImportError
from bot.store.peer_formats import is_red_export, is_vocard_export, red_entries, vocard_entries
from bot.store.text_values import storable
from bot.store.track_rows import BadTrackFields, clean_title, page_url_problem, track_from_fields

log = logging.getLogger(__name__)

JSON_FORMAT = "brent-playlist"
JSON_VERSION = 1
MAX_IMPORT_BYTES = 1_000_000

ProviderOf = Callable[[str], Provider]


@dataclass(frozen=True, slots=True)
class ImportedPlaylist:
    """What an import file holds; the name (if the file had one) is not validated yet."""

    name: str | None
    tracks: tuple[Track, ...]


def _exportable(tracks: Sequence[Track]) -> list[Track]:
    fine = [t for t in tracks if page_url_problem(t.page_url) is None]
    if len(fine) != len(tracks):
        log.warning("Leaving %d tracks with unusable URLs out of an export", len(tracks) - len(fine))
    return fine


def playlist_to_json(name: str, tracks: Sequence[Track]) -> str:
    """Requester ids stay out: they mean nothing on another server and identify people."""
    document = {
        "format": JSON_FORMAT,
        "version": JSON_VERSION,
        "name": name,
        "tracks": [
            {
                "title": t.title,
                "url": t.page_url,
                "duration": t.duration,
                "uploader": t.uploader,
                "thumbnail": t.thumbnail,
                "provider": t.provider.value,
            }
            for t in _exportable(tracks)
        ],
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def playlist_to_m3u(name: str, tracks: Sequence[Track]) -> str:
    """Extended M3U; titles are flattened to one line so they cannot inject entries."""
    lines = ["#EXTM3U", f"#PLAYLIST:{clean_title(name)}"]
    for t in _exportable(tracks):
        seconds = -1 if t.duration is None else round(t.duration)
        lines.append(f"#EXTINF:{seconds},{clean_title(t.title)}")
        lines.append(t.page_url)
    return "\n".join(lines) + "\n"


def _check_size(text: str) -> None:
    if len(text.encode("utf-8", "surrogatepass")) > MAX_IMPORT_BYTES:
        raise PlaylistImportError(f"The file is larger than {MAX_IMPORT_BYTES // 1_000_000} MB.")


def _check_count(count: int, max_tracks: int) -> None:
    if count > max_tracks:
        raise PlaylistImportError(
            f"The file has more than {max_tracks} tracks, the most a playlist can hold."
        )


def _provider(url: str, stated: object, provider_of: ProviderOf | None) -> Provider:
    if provider_of is not None:
        return provider_of(url)
    if isinstance(stated, str) and stated in Provider.__members__.values():
        return Provider(stated)
    return Provider.OTHER


def parse_json_playlist(
    text: str, *, max_tracks: int, requester_id: int | None = None, provider_of: ProviderOf | None = None
) -> ImportedPlaylist:
    """Read BRENT's JSON export, or a bare list of ``{"url": ..., "title": ...}`` objects.

    ``provider_of`` (e.g. ``UrlPolicy.provider_of``) overrides the provider the file claims.
    """
    _check_size(text)
    try:
        document: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PlaylistImportError(
            f"The file is not valid JSON (line {exc.lineno}, column {exc.colno})."
        ) from None
    except (ValueError, RecursionError):  # e.g. nesting too deep, integers too long
        raise PlaylistImportError("The file is not a JSON playlist this bot can read.") from None
    name: str | None = None
    if is_red_export(document):
        name, peer = red_entries(document)
        return _imported(name, [entry.as_fields() for entry in peer], max_tracks, requester_id, provider_of)
    if isinstance(document, dict):
        if document.get("format", JSON_FORMAT) != JSON_FORMAT:
            raise PlaylistImportError("The JSON file is not a playlist export.")
        version = document.get("version", JSON_VERSION)
        if not isinstance(version, int) or isinstance(version, bool) or version > JSON_VERSION:
            raise PlaylistImportError("The playlist was exported by a newer BRENT; upgrade to import it.")
        raw_name = document.get("name")
        name = raw_name if isinstance(raw_name, str) else None
        entries = document.get("tracks")
    else:
        entries = document
    if not isinstance(entries, list):
        raise PlaylistImportError('The JSON file needs a list of tracks (a "tracks" list).')
    return _imported(name, entries, max_tracks, requester_id, provider_of)


def _imported(
    name: str | None, entries: list[Any], max_tracks: int, requester_id: int | None, provider_of: ProviderOf | None
) -> ImportedPlaylist:
    """Entries shaped like BRENT's JSON tracks, checked one by one like database rows."""
    if not entries:
        raise PlaylistImportError("The file has no tracks.")
    _check_count(len(entries), max_tracks)
    tracks: list[Track] = []
    for number, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            raise PlaylistImportError(f"Entry {number} is not an object with a url.")
        url = entry.get("url", entry.get("page_url", entry.get("webpage_url")))
        problem = page_url_problem(url)
        if problem is not None:
            raise PlaylistImportError(f"Entry {number}: {problem}.")
        assert isinstance(url, str)
        title = entry.get("title")
        try:
            tracks.append(
                track_from_fields(
                    title=title if isinstance(title, str) and clean_title(storable(title)) else url,
                    page_url=url,
                    duration=entry.get("duration"),
                    uploader=entry.get("uploader"),
                    thumbnail=entry.get("thumbnail"),
                    provider=_provider(url, entry.get("provider"), provider_of),
                    requester_id=requester_id,
                )
            )
        except BadTrackFields as exc:
            raise PlaylistImportError(f"Entry {number}: {exc}.") from None
    return ImportedPlaylist(name, tuple(tracks))


def _extinf(line: str, number: int) -> tuple[float | None, str | None]:
    """``#EXTINF:<seconds>[ attributes],<title>`` -> (duration or None, title or None)."""
    info, _, title = line[len("#EXTINF:") :].partition(",")
    fields = info.split()
    try:
        seconds = float(fields[0]) if fields else -1.0
    except ValueError:
        raise PlaylistImportError(f"Line {number}: the #EXTINF duration is not a number.") from None
    if seconds != seconds or seconds in (float("inf"), float("-inf")):
        raise PlaylistImportError(f"Line {number}: the #EXTINF duration is not a number.")
    return (seconds if seconds >= 0 else None), (clean_title(storable(title)) or None)


def parse_m3u_playlist(
    text: str, *, max_tracks: int, requester_id: int | None = None, provider_of: ProviderOf | None = None
) -> ImportedPlaylist:
    """Read plain or extended M3U; only http(s) URL lines are accepted (no local paths)."""
    _check_size(text)
    name: str | None = None
    duration: float | None = None
    title: str | None = None
    tracks: list[Track] = []
    for number, raw in enumerate(text.lstrip("\ufeff").splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            if line.upper().startswith("#EXTINF:"):
                duration, title = _extinf(line, number)
            elif line.upper().startswith("#PLAYLIST:"):
                name = clean_title(line[len("#PLAYLIST:") :]) or None
            continue
        problem = page_url_problem(line)
        if problem is not None:
            raise PlaylistImportError(f"Line {number}: {problem}.")
        _check_count(len(tracks) + 1, max_tracks)
        tracks.append(
            track_from_fields(
                title=title or line,
                page_url=line,
                duration=duration,
                uploader=None,
                thumbnail=None,
                provider=_provider(line, None, provider_of),
                requester_id=requester_id,
            )
        )
        duration, title = None, None
    if not tracks:
        raise PlaylistImportError("The file has no tracks.")
    return ImportedPlaylist(name, tuple(tracks))


def parse_playlist(
    text: str, *, max_tracks: int, requester_id: int | None = None, provider_of: ProviderOf | None = None
) -> ImportedPlaylist:
    """JSON (BRENT's, or Red's) when the text starts like JSON, Vocard's export by its first line, and
    M3U otherwise, which also reads a plain list of links (one a line, ``#`` comments)."""
    if is_vocard_export(text):
        _check_size(text)
        name, peer = vocard_entries(text)
        return _imported(name, [entry.as_fields() for entry in peer], max_tracks, requester_id, provider_of)
    if text.lstrip("\ufeff \t\r\n").startswith(("{", "[")):
        return parse_json_playlist(
            text, max_tracks=max_tracks, requester_id=requester_id, provider_of=provider_of
        )
    return parse_m3u_playlist(text, max_tracks=max_tracks, requester_id=requester_id, provider_of=provider_of)
