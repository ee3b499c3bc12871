"""yt-dlp's info dicts become frozen :class:`Track` and :class:`Stream` values here, and only here.

The dicts come from remote sites through yt-dlp: any field may be missing, of another type, or
hostile (a ``javascript:`` thumbnail, a header with a line break), so each is read defensively.
"""

from __future__ import annotations

import logging
import math
import posixpath
import urllib.parse
from collections.abc import Mapping
from typing import Any

from audio.errors import ExtractionError
from audio.extractor.messages import MSG_GENERIC, MSG_NO_AUDIO, MSG_NOT_AUDIO_FILE
from audio.track import Provider, Stream, Track
from audio.url_policy import provider_for

log = logging.getLogger(__name__)

_UNPLAYABLE_TITLES = frozenset({"[private video]", "[deleted video]", "[unavailable video]"})
# yt-dlp's protocols whose media URL is a playlist of segments rather than one file.
_MANIFEST_PROTOCOLS = ("m3u8", "http_dash_segments", "dash")


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return None


def web_url(value: Any) -> str | None:
    """``value`` if it is an http(s) URL, else None."""
    text = _text(value)
    if text and text.lower().startswith(("http://", "https://")):
        return text
    return None


def _duration(info: Mapping[str, Any]) -> float | None:
    if info.get("is_live") is True or info.get("live_status") in ("is_live", "is_upcoming"):
        return None
    value = info.get("duration")
    if isinstance(value, bool) or value is None:
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return seconds if math.isfinite(seconds) and seconds > 0 else None


def _thumbnail(info: Mapping[str, Any]) -> str | None:
    direct = web_url(info.get("thumbnail"))
    if direct:
        return direct
    thumbnails = info.get("thumbnails")
    if not isinstance(thumbnails, list):
        return None
    best: tuple[tuple[float, float, int], str] | None = None
    for index, thumb in enumerate(thumbnails):
        if not isinstance(thumb, Mapping):
            continue
        url = web_url(thumb.get("url"))
        if not url:
            continue
        width, height = thumb.get("width"), thumb.get("height")
        area = float(width * height) if isinstance(width, int) and isinstance(height, int) else 0.0
        preference = thumb.get("preference")
        rank = (float(preference) if isinstance(preference, int | float) else 0.0, area, index)
        if best is None or rank > best[0]:
            best = (rank, url)
    return best[1] if best else None


def _uploader(info: Mapping[str, Any]) -> str | None:
    for key in ("uploader", "channel", "artist", "creator"):
        found = _text(info.get(key))
        if found:
            return found
    for key in ("artists", "creators"):
        values = info.get(key)
        if isinstance(values, list) and values and _text(values[0]):
            return _text(values[0])
    return None


def _provider(info: Mapping[str, Any], page_url: str) -> Provider:
    key = (_text(info.get("extractor_key")) or _text(info.get("ie_key")) or "").lower()
    for prefix, provider in (
        ("youtube", Provider.YOUTUBE),
        ("soundcloud", Provider.SOUNDCLOUD),
        ("bandcamp", Provider.BANDCAMP),
        ("generic", Provider.DIRECT),
    ):
        if key.startswith(prefix):
            return provider
    parts = urllib.parse.urlsplit(page_url)
    return provider_for(parts.hostname or "", parts.path)


def _fallback_title(page_url: str, info: Mapping[str, Any]) -> str:
    path = urllib.parse.unquote(urllib.parse.urlsplit(page_url).path).rstrip("/")
    name = posixpath.basename(path)
    return name or _text(info.get("id")) or page_url


def track_from_info(info: Mapping[str, Any], *, requester_id: int | None = None) -> Track:
    """Normalise one yt-dlp info dict (full, flat playlist entry or search hit) into a Track.

    Raises ExtractionError when the dict has no web page URL to re-resolve later.
    """
    page_url = web_url(info.get("webpage_url")) or web_url(info.get("original_url")) or web_url(info.get("url"))
    if page_url is None:
        raise ExtractionError(MSG_GENERIC, detail=f"info without a page url (id={info.get('id')!r})")
    title = _text(info.get("title")) or _text(info.get("fulltitle")) or _fallback_title(page_url, info)
    return Track(
        title=title,
        page_url=page_url,
        duration=_duration(info),
        uploader=_uploader(info),
        thumbnail=_thumbnail(info),
        provider=_provider(info, page_url),
        requester_id=requester_id,
        live=info.get("is_live") is True or info.get("live_status") == "is_live",
    )


def _expiry(url: str) -> float | None:
    """googlevideo URLs carry ``expire=<unix time>``; SoundCloud CDN URLs ``Expires=``."""
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    for key in ("expire", "Expires", "expires"):
        values = query.get(key)
        if values and values[0].isdigit():
            return float(values[0])
    return None


def stream_from_info(info: Mapping[str, Any]) -> Stream:
    """The media URL yt-dlp selected plus the headers FFmpeg must send, minus any Cookie.

    A playlist (HLS/DASH) is only accepted from a streaming site; a direct link is played as the
    one audio file it claims to be.
    """
    url = web_url(info.get("url"))
    if url is None:
        requested = info.get("requested_formats")
        if isinstance(requested, list):
            audio = [f for f in requested if isinstance(f, Mapping) and f.get("vcodec") in (None, "none")]
            for fmt in audio or requested:
                if isinstance(fmt, Mapping) and web_url(fmt.get("url")):
                    return stream_from_info({**info, **fmt, "requested_formats": None})
        raise ExtractionError(MSG_NO_AUDIO, detail=f"no media url for {info.get('id')!r}")
    raw_headers = info.get("http_headers")
    headers: dict[str, str] = {}
    if isinstance(raw_headers, Mapping):
        headers = {
            str(k): str(v)
            for k, v in raw_headers.items()
            if isinstance(k, str) and k.lower() != "cookie" and v is not None
            and "\r" not in str(v) and "\n" not in str(v)
        }
    is_live = info.get("is_live") is True or info.get("live_status") == "is_live"
    protocol = (_text(info.get("protocol")) or "").lower()
    manifest = protocol.startswith(_MANIFEST_PROTOCOLS)
    if manifest and _provider(info, url) in (Provider.DIRECT, Provider.OTHER):
        raise ExtractionError(MSG_NOT_AUDIO_FILE, detail=f"a {protocol} playlist from a direct link")
    # yt-dlp's acodec; asr is 48000 for YouTube's Opus and unknown for a direct .opus file.
    opus = _text(info.get("acodec")) == "opus" and info.get("asr") in (None, 48000)
    return Stream(
        url=url, http_headers=headers, expires_at=_expiry(url), is_live=is_live, manifest=manifest, opus=opus
    )


def playable_entries(info: Mapping[str, Any], limit: int) -> list[Mapping[str, Any]]:
    """A playlist's first ``limit`` entries that could play (nested playlists flattened, private
    and deleted placeholders left out), or ``[info]`` for a single track."""
    entries = info.get("entries")
    if entries is None:
        return [info]
    found: list[Mapping[str, Any]] = []
    for entry in entries:
        if len(found) >= limit:
            break
        if not isinstance(entry, Mapping):
            continue
        if (_text(entry.get("title")) or "").lower() in _UNPLAYABLE_TITLES:
            continue
        if entry.get("_type") == "playlist" or entry.get("entries") is not None:
            found.extend(playable_entries(entry, limit - len(found)))
            continue
        found.append(entry)
    return found[:limit]


def tracks_from_info(info: Mapping[str, Any], *, limit: int, requester_id: int | None = None) -> list[Track]:
    """A playlist's or search's playable entries as Tracks (at most ``limit``), or the one track.

    Private/deleted placeholders and entries without a page URL are skipped, not fatal.
    """
    tracks: list[Track] = []
    for entry in playable_entries(info, limit):
        try:
            tracks.append(track_from_info(entry, requester_id=requester_id))
        except ExtractionError as exc:
            log.info("skipping an entry yt-dlp returned: %s", exc)
    return tracks


def require_direct_file(info: Mapping[str, Any]) -> None:
    """The generic extractor is only trusted for plain media files, never for scraping a web page
    (embedded players, smuggled headers, feeds)."""
    key = (_text(info.get("extractor_key")) or "").lower()
    if key == "generic" and info.get("direct") is not True:
        raise ExtractionError(MSG_NOT_AUDIO_FILE, detail="generic extractor result is not a direct file")
