"""The typed shapes the store hands out: playlists, pages of a playlist, a guild's saved player state.

Rows never leave the store as tuples or dicts; callers only see these frozen dataclasses.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from audio.filters import NO_FILTERS, Filters
from audio.player import MAX_VOLUME
from audio.track import Track

log = logging.getLogger(__name__)

LOOP_MODES = ("off", "track", "queue")
MIN_VOLUME = 0


@dataclass(frozen=True, slots=True)
class StoreLimits:
    """Caps the store enforces inside its transactions, so concurrent writers cannot overshoot them."""

    max_playlist_tracks: int = 500
    max_guild_playlists: int = 50
    max_guild_playlist_tracks: int = 10_000
    max_name_length: int = 32

    def __post_init__(self) -> None:
        for name in (
            "max_playlist_tracks",
            "max_guild_playlists",
            "max_guild_playlist_tracks",
            "max_name_length",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")


@dataclass(frozen=True, slots=True)
class Playlist:
    """A saved playlist's header; ``owner_id`` is the creator, who may change it without Manage Server."""

    id: int
    guild_id: int
    name: str
    owner_id: int
    created_at: datetime
    track_count: int


@dataclass(frozen=True, slots=True)
class PlaylistEntry:
    """A track with its 1-based position, which stays right even when a damaged row is skipped."""

    position: int
    track: Track


@dataclass(frozen=True, slots=True)
class PlaylistPage:
    """One page of a playlist; ``start`` is the 1-based position the page begins at."""

    playlist: Playlist
    number: int
    pages: int
    start: int
    entries: tuple[PlaylistEntry, ...]


@dataclass(frozen=True, slots=True)
class GuildState:
    """Everything needed to bring a guild's player back after a restart or a crash.

    ``position`` is the checkpointed offset (seconds) into ``current``; the queue excludes ``current``.
    """

    guild_id: int
    voice_channel_id: int | None = None
    text_channel_id: int | None = None
    loop_mode: str = "off"
    volume: int = 100
    current: Track | None = None
    position: float = 0.0
    paused: bool = False
    queue: tuple[Track, ...] = field(default_factory=tuple)
    filters: Filters = NO_FILTERS

    def __post_init__(self) -> None:
        if self.loop_mode not in LOOP_MODES:
            raise ValueError(f"loop_mode must be one of {LOOP_MODES}, not {self.loop_mode!r}")
        if not MIN_VOLUME <= self.volume <= MAX_VOLUME:
            raise ValueError(f"volume must be within {MIN_VOLUME}..{MAX_VOLUME}")
        if not self.position >= 0:  # also rejects NaN
            raise ValueError("position must be >= 0")


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """A track the guild played (it started), and when (unix time)."""

    track: Track
    played_at: float


@dataclass(frozen=True, slots=True)
class UndoStep:
    """The queue just before and just after the last undoable edit (``kind``: clear, shuffle, ...)."""

    kind: str
    before: tuple[Track, ...]
    after: tuple[Track, ...]
    member_id: int | None = None  # who made the edit
