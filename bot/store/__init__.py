"""Persistence for BRENT: playlists and player state, behind one ``Store`` interface.

Open it once at start-up with ``open_store(settings.database_url, settings.data_dir)`` and pass it
to the cogs and players; nothing outside this package writes SQL. Player state goes through a
``StateWriter`` (write-behind, ordered per guild); playlist files through the pure functions of
``playlist_formats``.
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
from bot.store.models import (
    GuildState,
    HistoryEntry,
    Playlist,
    PlaylistEntry,
    PlaylistPage,
    StoreLimits,
    UndoStep,
)
from bot.store.playlist_formats import (
    ImportedPlaylist,
    parse_json_playlist,
    parse_m3u_playlist,
    parse_playlist,
    playlist_to_json,
    playlist_to_m3u,
)
from bot.store.playlist_rules import check_may_change, normalise_playlist_name
from bot.store.state_writer import StateWriter

__all__ = [
    "LATEST_VERSION",
    "SQLITE_FILE_NAME",
    "UNAVAILABLE_MESSAGE",
    "DatabaseUnavailable",
    "GuildState",
    "HistoryEntry",
    "ImportedPlaylist",
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
    "StateWriter",
    "Store",
    "StoreLimits",
    "UndoStep",
    "check_may_change",
    "normalise_playlist_name",
    "open_store",
    "parse_json_playlist",
    "parse_m3u_playlist",
    "parse_playlist",
    "playlist_to_json",
    "playlist_to_m3u",
]
