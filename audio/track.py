"""The typed shape of a track, the only form in which tracks travel through BRENT.

Tracks are built at the edges only: by the extractor from yt-dlp's info dicts, and by the store
from database rows. Everything downstream reads these fields and never a raw dict.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from dataclasses import dataclass


class Provider(enum.StrEnum):
    YOUTUBE = "youtube"
    SOUNDCLOUD = "soundcloud"
    BANDCAMP = "bandcamp"
    DIRECT = "direct"  # a plain audio file on a web server
    OTHER = "other"
    LOCAL = "local"  # a file in the owner's music folder (MUSIC_DIR), not a site


@dataclass(frozen=True, slots=True)
class Track:
    """A playable item. ``page_url`` is what gets re-resolved right before playback (stream URLs expire)."""

    title: str
    page_url: str
    duration: float | None  # seconds; None for live streams or unknown
    uploader: str | None
    thumbnail: str | None
    provider: Provider
    requester_id: int | None = None
    live: bool = False  # a live stream or a radio station: no end, no seeking (not stored: found again)

    def requested_by(self, user_id: int | None) -> Track:
        return dataclasses.replace(self, requester_id=user_id)


@dataclass(frozen=True, slots=True)
class Stream:
    """A media URL fetched moments before playback, plus the headers ffmpeg must send with it.

    Never shown to users: googlevideo URLs embed the host's IP address.
    """

    url: str
    http_headers: Mapping[str, str]
    expires_at: float | None = None  # unix time, when the provider tells us
    is_live: bool = False
    manifest: bool = False  # an HLS/DASH playlist from a streaming site, not one audio file
    opus: bool = False  # its audio is Opus (48 kHz, as Opus always is): the packets can go to Discord as they are
