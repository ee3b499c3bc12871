"""The one store interface used by the cogs and the player; no SQL lives outside ``bot.store``.

Every method is scoped by guild: a guild id is part of every lookup, so one guild can never read or
change another guild's data, whatever names or ids it guesses. Failures of the database itself raise
``StoreError`` (``DatabaseUnavailable``, ``SchemaTooNew``); callers keep playing from memory.
"""

from __future__ import annotations

import abc
import logging
from collections.abc import Sequence

from audio.track import Track
from bot.store.models import (
    GuildState,
    HistoryEntry,
    Playlist,
    PlaylistPage,
    StoreLimits,
    UndoStep,
)

log = logging.getLogger(__name__)


class Store(abc.ABC):
    """Playlists and persisted player state. Positions in playlists are 1-based, as users see them."""

    limits: StoreLimits

    # Life cycle -------------------------------------------------------------------------------------
    @abc.abstractmethod
    async def close(self) -> None:
        """Release connections; safe to call twice."""

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # Playlists --------------------------------------------------------------------------------------
    @abc.abstractmethod
    async def create_playlist(self, guild_id: int, name: str, *, owner_id: int) -> Playlist:
        """Raises InvalidPlaylistName, PlaylistNameTaken (case-insensitive) or LimitReached."""

    @abc.abstractmethod
    async def save_playlist(
        self, guild_id: int, name: str, tracks: Sequence[Track], *, owner_id: int
    ) -> Playlist:
        """Create a playlist holding ``tracks`` in one transaction (save the queue, import a file)."""

    @abc.abstractmethod
    async def delete_playlist(self, guild_id: int, name: str, *, user_id: int, can_manage: bool) -> Playlist:
        """Raises PlaylistNotFound or NotPlaylistOwner; returns what was deleted."""

    @abc.abstractmethod
    async def rename_playlist(
        self, guild_id: int, name: str, new_name: str, *, user_id: int, can_manage: bool
    ) -> Playlist:
        """Changing only the case of a name is allowed; taking another playlist's name is not."""

    @abc.abstractmethod
    async def add_tracks(
        self, guild_id: int, name: str, tracks: Sequence[Track], *, user_id: int, can_manage: bool
    ) -> Playlist:
        """Append all of ``tracks`` or none of them (LimitReached when a cap would be passed)."""

    @abc.abstractmethod
    async def remove_track(
        self, guild_id: int, name: str, position: int, *, user_id: int, can_manage: bool
    ) -> Track | None:
        """Remove the entry at 1-based ``position`` (PlaylistError when there is none).

        Returns the removed track, or None when that row was damaged (it is removed all the same).
        """

    @abc.abstractmethod
    async def get_playlist(self, guild_id: int, name: str) -> Playlist:
        """Raises PlaylistNotFound."""

    @abc.abstractmethod
    async def list_playlists(self, guild_id: int) -> list[Playlist]:
        """This guild's playlists, by name."""

    @abc.abstractmethod
    async def playlist_tracks(self, guild_id: int, name: str) -> tuple[Playlist, list[Track]]:
        """Every entry, in order, for playing or exporting; damaged rows are skipped."""

    @abc.abstractmethod
    async def playlist_page(self, guild_id: int, name: str, page: int, *, size: int = 10) -> PlaylistPage:
        """Page ``page`` (1-based, clamped to the last page) of a playlist."""

    # Player state -----------------------------------------------------------------------------------
    @abc.abstractmethod
    async def save_state(self, state: GuildState) -> None:
        """Write the whole state (settings, current track, position, queue) in one transaction.

        Calls for one guild are applied in the order they were made, so the last snapshot wins.
        """

    @abc.abstractmethod
    async def checkpoint(self, guild_id: int, position: float, *, paused: bool) -> None:
        """Cheap, frequent update of the current track's position; a no-op for a guild with no state."""

    @abc.abstractmethod
    async def load_state(self, guild_id: int) -> GuildState | None:
        """The saved state of one guild, or None."""

    @abc.abstractmethod
    async def load_states(self) -> list[GuildState]:
        """The saved state of every guild, for rejoining and resuming at start-up."""

    @abc.abstractmethod
    async def forget_guild(self, guild_id: int) -> None:
        """Drop the guild's player state (not its playlists), e.g. after a deliberate stop/leave."""

    # Settings ---------------------------------------------------------------------------------------
    @abc.abstractmethod
    async def guild_settings(self, guild_id: int) -> dict[str, str]:
        """One server's settings as stored (name -> text); absent names are at their defaults."""

    @abc.abstractmethod
    async def all_guild_settings(self) -> dict[int, dict[str, str]]:
        """Every server's settings, read once at start-up."""

    @abc.abstractmethod
    async def set_guild_setting(self, guild_id: int, name: str, value: str | None) -> None:
        """Store one setting; ``None`` puts it back to the default."""

    @abc.abstractmethod
    async def blocked_users(self) -> dict[int, set[int]]:
        """Every block list by guild id; guild id 0 is the owner's, which applies everywhere."""

    @abc.abstractmethod
    async def set_blocked(self, guild_id: int, user_id: int, blocked: bool) -> None:
        """Add a member to a block list or take them off it."""

    @abc.abstractmethod
    async def bot_value(self, name: str) -> str | None:
        """A bot-wide value (e.g. the hash of the registered slash commands), or None."""

    @abc.abstractmethod
    async def set_bot_value(self, name: str, value: str) -> None: ...

    # The queue's memory (bot.store.queue_memory) ------------------------------------------------------
    @abc.abstractmethod
    async def add_history(
        self, guild_id: int, track: Track, *, keep: int, played_at: float | None = None
    ) -> None:
        """Append a played track; only the newest ``keep`` entries of the guild stay."""

    @abc.abstractmethod
    async def history(self, guild_id: int, *, limit: int) -> list[HistoryEntry]:
        """The newest ``limit`` entries, newest first."""

    @abc.abstractmethod
    async def save_undo(self, guild_id: int, step: UndoStep) -> None:
        """Replace the guild's undo step."""

    @abc.abstractmethod
    async def load_undo(self, guild_id: int) -> UndoStep | None: ...

    @abc.abstractmethod
    async def drop_undo(self, guild_id: int) -> None: ...

    @abc.abstractmethod
    async def forget_queue_memory(self, guild_id: int) -> None:
        """Drop the guild's play history and undo step (the bot left the guild)."""
