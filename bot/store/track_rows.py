"""Turning stored track fields back into Track, and refusing anything that is not a valid one.

The same checks guard database rows (a bad row is skipped with a log line) and imported playlists
(a bad entry is an error the user sees). Text on its way in and out passes through ``storable``, so
no title or uploader can make a database refuse the write.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from audio.track import Provider, Track
from bot.store.text_values import optional_storable, storable

log = logging.getLogger(__name__)

TRACK_COLUMNS = ("title", "page_url", "duration", "uploader", "thumbnail", "provider", "requester_id")
MAX_TITLE_LENGTH = 512
MAX_URL_LENGTH = 2048


class BadTrackFields(ValueError):
    """Why a set of fields is not a track; the text is safe to show (it never echoes the value)."""


def page_url_problem(url: object) -> str | None:
    """Describe what is wrong with ``url`` as a track's page URL, or None when it is fine."""
    if not isinstance(url, str) or not url:
        return "the URL is missing"
    if len(url) > MAX_URL_LENGTH:
        return f"the URL is longer than {MAX_URL_LENGTH} characters"
    if any(ch.isspace() or not ch.isprintable() for ch in url):
        return "the URL contains spaces or control characters"
    try:
        parts = urlsplit(url)
    except ValueError:
        return "the URL cannot be parsed"
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return "only http and https URLs are allowed"
    return None


def clean_title(title: str) -> str:
    """One line of printable text, so a title can never add lines to an M3U file or a message."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in title).split())


def _optional_text(value: object, name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadTrackFields(f"the {name} is not text")
    return storable(value)


def _optional_int(value: object, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise BadTrackFields(f"the {name} is not a valid id")
    return value


def duration_from(value: object) -> float | None:
    """Seconds as a finite non-negative float, None when unknown; raises BadTrackFields otherwise."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadTrackFields("the duration is not a number")
    seconds = float(value)
    if not math.isfinite(seconds) or seconds < 0:
        raise BadTrackFields("the duration is not a non-negative number")
    return seconds


def track_from_fields(
    *,
    title: object,
    page_url: object,
    duration: object,
    uploader: object,
    thumbnail: object,
    provider: object,
    requester_id: object,
) -> Track:
    """Validate loose values into a Track or raise BadTrackFields."""
    problem = page_url_problem(page_url)
    if problem is not None:
        raise BadTrackFields(problem)
    shown = clean_title(storable(title)) if isinstance(title, str) else ""
    if not shown:
        raise BadTrackFields("the title is missing")
    if thumbnail is not None and page_url_problem(thumbnail) is not None:
        thumbnail = None  # a broken thumbnail is cosmetic, not a reason to drop the track
    if not isinstance(provider, str) or provider not in Provider.__members__.values():
        raise BadTrackFields("the provider is unknown")
    kind = Provider(provider)
    assert isinstance(page_url, str)
    return Track(
        title=shown[:MAX_TITLE_LENGTH],
        page_url=page_url,
        duration=duration_from(duration),
        uploader=_optional_text(uploader, "uploader"),
        thumbnail=_optional_text(thumbnail, "thumbnail"),
        provider=kind,
        requester_id=_optional_int(requester_id, "requester id"),
    )


def track_values(track: Track) -> tuple[Any, ...]:
    """The column values for ``TRACK_COLUMNS``, in order; every track the store writes passes here."""
    return (
        storable(track.title),
        storable(track.page_url),
        track.duration,
        optional_storable(track.uploader),
        optional_storable(track.thumbnail),
        storable(track.provider.value),
        track.requester_id,
    )


def track_from_row(row: Sequence[Any], *, where: str) -> Track | None:
    """A Track from ``TRACK_COLUMNS`` values, or None (logged) when the row is damaged."""
    try:
        return track_from_fields(**dict(zip(TRACK_COLUMNS, row, strict=True)))
    except (BadTrackFields, ValueError) as exc:
        log.warning("Skipping a damaged track row in %s: %s", where, exc)
        return None
