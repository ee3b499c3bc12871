"""What autoplay asks for when a server's queue runs dry: something related to the last track.

A YouTube video's mix (``list=RD<id>``), a SoundCloud track's recommendations, otherwise a search for
its artist (or title) on the server's site. From what comes back the first track is taken that the
server has not played lately.
"""

from __future__ import annotations

import logging
import re
import urllib.parse
from collections.abc import Collection, Sequence

from audio.track import Provider, Track

log = logging.getLogger(__name__)

_VIDEO_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")
_YOUTUBE_HOSTS = ("youtube.com", "www.youtube.com", "m.youtube.com", "music.youtube.com", "youtu.be")


def _video_id(url: str) -> str | None:
    parts = urllib.parse.urlsplit(url)
    if (parts.hostname or "").lower() not in _YOUTUBE_HOSTS:
        return None
    found = parts.path.strip("/") if parts.hostname == "youtu.be" else None
    found = found or next(iter(urllib.parse.parse_qs(parts.query).get("v", [])), None)
    return found if found and _VIDEO_ID.match(found) else None


def related_query(track: Track) -> str:
    """A link or search words for tracks like ``track``."""
    if track.provider is Provider.YOUTUBE and (video := _video_id(track.page_url)):
        return f"https://www.youtube.com/playlist?list=RD{video}"
    host = (urllib.parse.urlsplit(track.page_url).hostname or "").lower()
    if track.provider is Provider.SOUNDCLOUD and host.endswith("soundcloud.com"):
        return track.page_url.split("?", 1)[0].rstrip("/") + "/recommended"
    return track.uploader or track.title


def pick_related(candidates: Sequence[Track], *, played: Collection[str], after: Track) -> Track | None:
    """The first candidate that is neither ``after`` nor among the recently ``played`` page URLs."""
    for candidate in candidates:
        if candidate.page_url != after.page_url and candidate.page_url not in played:
            return candidate
    return None
