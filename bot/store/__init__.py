"""Persistence for BRENT: playlists and player state, behind one ``Store`` interface.

Open it once at start-up with ``open_store(settings.database_url, settings.data_dir)`` and pass it
to the cogs and players; nothing outside this package writes SQL.
"""

from __future__ import annotations

from bot.store.base import Store
from bot.store.errors import (
    UNAVAILABLE_MESSAGE,
    DatabaseUnavailable,
    InvalidPlaylistName,
    NotPlaylistOwner,
    PlaylistError,
    PlaylistImportError,
    PlaylistNameTaken,
    PlaylistNotFound,
    SchemaTooNew,
)
from bot.store.factory import SQLITE_FILE_NAME, open_store
from bot.store.migrations import LATEST_VERSION
from bot.store.models import GuildState, Playlist, PlaylistEntry, PlaylistPage, StoreLimits
from bot.store.playlist_rules import check_may_change, normalise_playlist_name

__all__ = [
    "LATEST_VERSION",
    "SQLITE_FILE_NAME",
    "UNAVAILABLE_MESSAGE",
    "DatabaseUnavailable",
    "GuildState",
    "InvalidPlaylistName",
    "NotPlaylistOwner",
    "Playlist",
    "PlaylistEntry",
    "PlaylistError",
    "PlaylistImportError",
    "PlaylistNameTaken",
    "PlaylistNotFound",
    "PlaylistPage",
    "SchemaTooNew",
    "Store",
    "StoreLimits",
    "check_may_change",
    "normalise_playlist_name",
    "open_store",
]
