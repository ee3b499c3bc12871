"""The store's logic, written once for both backends against the ``Driver`` seam.

Concurrency: every playlist write takes the guild's lock inside its transaction (SQLite: the
write lock of ``BEGIN IMMEDIATE``; PostgreSQL: an advisory lock), so caps and name checks see
every committed change and two members acting at once lose neither change. Player-state writes
for one guild go through a per-guild asyncio.Lock, so snapshots land in the order they were taken.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
import unicodedata
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Self

from audio.errors import LimitReached
from audio.track import Track
from bot.store.base import Store
from bot.store.driver import Driver, DuplicateKey, Row, Transaction
from bot.store.errors import PlaylistError, PlaylistNameTaken, PlaylistNotFound
from bot.store.migrations import migrate
from bot.store.models import (
    GuildState,
    Playlist,
    PlaylistEntry,
    PlaylistPage,
    StoreLimits,
)
from bot.store.playlist_rules import check_may_change, normalise_playlist_name, playlist_name_key
from bot.store.queue_memory import QueueMemoryStore
from bot.store.settings_sql import SettingsSql
from bot.store.state_rows import state_from_rows
from bot.store.track_rows import TRACK_COLUMNS, track_from_row, track_values

log = logging.getLogger(__name__)

_TRACK_COLS = ", ".join(TRACK_COLUMNS)
_TRACK_MARKS = ", ".join("?" * len(TRACK_COLUMNS))

_PLAYLIST_SELECT = (
    "SELECT p.id, p.guild_id, p.name, p.owner_id, p.created_at, "
    "(SELECT COUNT(*) FROM playlist_tracks t WHERE t.playlist_id = p.id) "
    "FROM playlists p"
)
_INSERT_PLAYLIST_TRACK = (
    f"INSERT INTO playlist_tracks (playlist_id, guild_id, {_TRACK_COLS}) VALUES (?, ?, {_TRACK_MARKS})"
)
_INSERT_QUEUE_ENTRY = (
    f"INSERT INTO queue_entries (guild_id, slot, {_TRACK_COLS}) VALUES (?, ?, {_TRACK_MARKS})"
)

NOT_FOUND_MESSAGE = "There is no playlist with that name in this server."


def _playlist_from_row(row: Row) -> Playlist:
    try:
        created_at = datetime.fromtimestamp(float(row[4]), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        log.warning("Playlist %s has a damaged creation time", row[0])
        created_at = datetime.fromtimestamp(0, UTC)
    return Playlist(
        id=int(row[0]),
        guild_id=int(row[1]),
        name=str(row[2]),
        owner_id=int(row[3]),
        created_at=created_at,
        track_count=int(row[5]),
    )


def _sort_key(name: str) -> tuple[str, str]:
    """Alphabetical ignoring case and accents ("Ärger" next to "Arbeit"), ties broken exactly."""
    folded = unicodedata.normalize("NFKD", name.casefold())
    return "".join(ch for ch in folded if not unicodedata.combining(ch)), name


class SqlStore(QueueMemoryStore, SettingsSql, Store):
    """``Store`` on top of a ``Driver``; backends only differ in how they connect."""

    def __init__(self, driver: Driver, *, limits: StoreLimits | None = None) -> None:
        self._driver = driver
        self.limits = limits or StoreLimits()
        self._state_locks: dict[int, asyncio.Lock] = {}
        self._closed = False

    @classmethod
    async def _migrated(cls, driver: Driver, *, limits: StoreLimits | None, schema: int) -> Self:
        """The store over ``driver`` once its schema is at ``schema``; the driver is closed if that fails."""
        try:
            await migrate(driver, target=schema)
        except BaseException:
            await driver.close()
            raise
        return cls(driver, limits=limits)

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            await self._driver.close()

    # Playlists --------------------------------------------------------------------------------------
    def _name(self, raw: str) -> str:
        return normalise_playlist_name(raw, max_length=self.limits.max_name_length)

    def _lookup_key(self, raw: str) -> str | None:
        """The key to look a user-typed name up by; None when no playlist could have that name."""
        try:
            return playlist_name_key(self._name(raw))
        except PlaylistError:
            return None

    async def _find(self, tx: Transaction, guild_id: int, raw_name: str) -> Playlist:
        key = self._lookup_key(raw_name)
        row = None
        if key is not None:
            row = await tx.fetchrow(
                f"{_PLAYLIST_SELECT} WHERE p.guild_id = ? AND p.name_key = ?", guild_id, key
            )
        if row is None:
            raise PlaylistNotFound(NOT_FOUND_MESSAGE)
        return _playlist_from_row(row)

    async def _find_changeable(
        self, tx: Transaction, guild_id: int, raw_name: str, user_id: int, can_manage: bool
    ) -> Playlist:
        await tx.lock(guild_id)
        playlist = await self._find(tx, guild_id, raw_name)
        check_may_change(owner_id=playlist.owner_id, user_id=user_id, can_manage=can_manage)
        return playlist

    async def _check_track_room(self, tx: Transaction, guild_id: int, current: int, adding: int) -> None:
        limit = self.limits.max_playlist_tracks
        if current + adding > limit:
            has = f"; this one has {current}" if current else ""
            raise LimitReached(f"A playlist can hold at most {limit} tracks{has}.")
        total = int(await tx.fetchval("SELECT COUNT(*) FROM playlist_tracks WHERE guild_id = ?", guild_id))
        guild_limit = self.limits.max_guild_playlist_tracks
        if total + adding > guild_limit:
            raise LimitReached(f"This server's playlists can hold at most {guild_limit} tracks in all.")

    async def _insert_tracks(self, tx: Transaction, playlist: Playlist, tracks: Sequence[Track]) -> None:
        await tx.executemany(
            _INSERT_PLAYLIST_TRACK, [(playlist.id, playlist.guild_id, *track_values(t)) for t in tracks]
        )

    async def _create(self, tx: Transaction, guild_id: int, name: str, owner_id: int) -> Playlist:
        key = playlist_name_key(name)
        await tx.lock(guild_id)
        count = int(await tx.fetchval("SELECT COUNT(*) FROM playlists WHERE guild_id = ?", guild_id))
        if count >= self.limits.max_guild_playlists:
            raise LimitReached(f"This server already has {count} playlists, the most allowed.")
        if await tx.fetchval("SELECT id FROM playlists WHERE guild_id = ? AND name_key = ?", guild_id, key):
            raise PlaylistNameTaken("This server already has a playlist with that name.")
        created_at = time.time()
        playlist_id = await tx.fetchval(
            "INSERT INTO playlists (guild_id, name, name_key, owner_id, created_at) "
            "VALUES (?, ?, ?, ?, ?) RETURNING id",
            guild_id,
            name,
            key,
            owner_id,
            created_at,
        )
        return Playlist(
            int(playlist_id), guild_id, name, owner_id, datetime.fromtimestamp(created_at, UTC), 0
        )

    async def create_playlist(self, guild_id: int, name: str, *, owner_id: int) -> Playlist:
        return await self.save_playlist(guild_id, name, (), owner_id=owner_id)

    async def save_playlist(
        self, guild_id: int, name: str, tracks: Sequence[Track], *, owner_id: int
    ) -> Playlist:
        name = self._name(name)
        try:
            async with self._driver.transaction() as tx:
                playlist = await self._create(tx, guild_id, name, owner_id)
                if tracks:
                    await self._check_track_room(tx, guild_id, 0, len(tracks))
                    await self._insert_tracks(tx, playlist, tracks)
        except DuplicateKey:  # only if another process slipped in despite the lock
            raise PlaylistNameTaken("This server already has a playlist with that name.") from None
        log.info("Guild %d: playlist %d created with %d tracks", guild_id, playlist.id, len(tracks))
        return Playlist(playlist.id, guild_id, name, owner_id, playlist.created_at, len(tracks))

    async def delete_playlist(self, guild_id: int, name: str, *, user_id: int, can_manage: bool) -> Playlist:
        async with self._driver.transaction() as tx:
            playlist = await self._find_changeable(tx, guild_id, name, user_id, can_manage)
            await tx.execute(
                "DELETE FROM playlist_tracks WHERE playlist_id = ? AND guild_id = ?", playlist.id, guild_id
            )
            await tx.execute("DELETE FROM playlists WHERE id = ? AND guild_id = ?", playlist.id, guild_id)
        log.info("Guild %d: playlist %d deleted by %d", guild_id, playlist.id, user_id)
        return playlist

    async def rename_playlist(
        self, guild_id: int, name: str, new_name: str, *, user_id: int, can_manage: bool
    ) -> Playlist:
        new_name = self._name(new_name)
        new_key = playlist_name_key(new_name)
        try:
            async with self._driver.transaction() as tx:
                playlist = await self._find_changeable(tx, guild_id, name, user_id, can_manage)
                if new_key != playlist_name_key(playlist.name) and await tx.fetchval(
                    "SELECT id FROM playlists WHERE guild_id = ? AND name_key = ?", guild_id, new_key
                ):
                    raise PlaylistNameTaken("This server already has a playlist with that name.")
                await tx.execute(
                    "UPDATE playlists SET name = ?, name_key = ? WHERE id = ? AND guild_id = ?",
                    new_name,
                    new_key,
                    playlist.id,
                    guild_id,
                )
        except DuplicateKey:
            raise PlaylistNameTaken("This server already has a playlist with that name.") from None
        return Playlist(
            playlist.id, guild_id, new_name, playlist.owner_id, playlist.created_at, playlist.track_count
        )

    async def add_tracks(
        self, guild_id: int, name: str, tracks: Sequence[Track], *, user_id: int, can_manage: bool
    ) -> Playlist:
        async with self._driver.transaction() as tx:
            playlist = await self._find_changeable(tx, guild_id, name, user_id, can_manage)
            await self._check_track_room(tx, guild_id, playlist.track_count, len(tracks))
            await self._insert_tracks(tx, playlist, tracks)
        return Playlist(
            playlist.id,
            guild_id,
            playlist.name,
            playlist.owner_id,
            playlist.created_at,
            playlist.track_count + len(tracks),
        )

    async def remove_track(
        self, guild_id: int, name: str, position: int, *, user_id: int, can_manage: bool
    ) -> Track | None:
        async with self._driver.transaction() as tx:
            playlist = await self._find_changeable(tx, guild_id, name, user_id, can_manage)
            if not 1 <= position <= playlist.track_count:
                raise PlaylistError(
                    f"That playlist has no track #{position}; it has {playlist.track_count} tracks."
                )
            row = await tx.fetchrow(
                f"SELECT id, {_TRACK_COLS} FROM playlist_tracks WHERE playlist_id = ? AND guild_id = ? "
                "ORDER BY id LIMIT 1 OFFSET ?",
                playlist.id,
                guild_id,
                position - 1,
            )
            if row is None:  # unreachable while the guild lock is held; kept as a guard
                raise PlaylistError(f"That playlist has no track #{position}.")
            await tx.execute("DELETE FROM playlist_tracks WHERE id = ? AND guild_id = ?", row[0], guild_id)
        return track_from_row(row[1:], where=f"playlist {playlist.id}")

    async def get_playlist(self, guild_id: int, name: str) -> Playlist:
        async with self._driver.transaction(write=False) as tx:
            return await self._find(tx, guild_id, name)

    async def list_playlists(self, guild_id: int) -> list[Playlist]:
        async with self._driver.transaction(write=False) as tx:
            rows = await tx.fetch(f"{_PLAYLIST_SELECT} WHERE p.guild_id = ?", guild_id)
        # Sorted here, not in SQL, so both backends agree whatever their collation.
        return sorted((_playlist_from_row(row) for row in rows), key=lambda p: _sort_key(p.name))

    async def playlist_tracks(self, guild_id: int, name: str) -> tuple[Playlist, list[Track]]:
        async with self._driver.transaction(write=False) as tx:
            playlist = await self._find(tx, guild_id, name)
            rows = await tx.fetch(
                f"SELECT {_TRACK_COLS} FROM playlist_tracks WHERE playlist_id = ? AND guild_id = ? ORDER BY id",
                playlist.id,
                guild_id,
            )
        where = f"playlist {playlist.id}"
        return playlist, [t for row in rows if (t := track_from_row(row, where=where)) is not None]

    async def playlist_page(self, guild_id: int, name: str, page: int, *, size: int = 10) -> PlaylistPage:
        if size < 1:
            raise ValueError("size must be at least 1")
        async with self._driver.transaction(write=False) as tx:
            playlist = await self._find(tx, guild_id, name)
            pages = max(1, math.ceil(playlist.track_count / size))
            number = min(max(page, 1), pages)
            start = (number - 1) * size + 1
            rows = await tx.fetch(
                f"SELECT {_TRACK_COLS} FROM playlist_tracks WHERE playlist_id = ? AND guild_id = ? "
                "ORDER BY id LIMIT ? OFFSET ?",
                playlist.id,
                guild_id,
                size,
                start - 1,
            )
        where = f"playlist {playlist.id}"
        entries = tuple(
            PlaylistEntry(start + offset, track)
            for offset, row in enumerate(rows)
            if (track := track_from_row(row, where=where)) is not None
        )
        return PlaylistPage(playlist, number, pages, start, entries)

    # Player state -----------------------------------------------------------------------------------
    def _state_lock(self, guild_id: int) -> asyncio.Lock:
        return self._state_locks.setdefault(guild_id, asyncio.Lock())

    async def save_state(self, state: GuildState) -> None:
        entries = [(state.guild_id, 0, *track_values(state.current))] if state.current else []
        entries += [(state.guild_id, slot, *track_values(t)) for slot, t in enumerate(state.queue, start=1)]
        async with self._state_lock(state.guild_id), self._driver.transaction() as tx:
            await tx.execute(
                "INSERT INTO guild_state (guild_id, voice_channel_id, text_channel_id, loop_mode, volume, "
                "position, paused, updated_at, filters) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (guild_id) DO UPDATE SET voice_channel_id = excluded.voice_channel_id, "
                "text_channel_id = excluded.text_channel_id, loop_mode = excluded.loop_mode, "
                "volume = excluded.volume, position = excluded.position, paused = excluded.paused, "
                "updated_at = excluded.updated_at, filters = excluded.filters",
                state.guild_id,
                state.voice_channel_id,
                state.text_channel_id,
                state.loop_mode,
                state.volume,
                float(state.position),
                state.paused,
                time.time(),
                state.filters.to_text(),
            )
            await tx.execute("DELETE FROM queue_entries WHERE guild_id = ?", state.guild_id)
            if entries:
                await tx.executemany(_INSERT_QUEUE_ENTRY, entries)

    async def checkpoint(self, guild_id: int, position: float, *, paused: bool) -> None:
        if not (math.isfinite(position) and position >= 0):
            raise ValueError("position must be a finite number >= 0")
        async with self._state_lock(guild_id), self._driver.transaction() as tx:
            await tx.execute(
                "UPDATE guild_state SET position = ?, paused = ?, updated_at = ? WHERE guild_id = ?",
                float(position),
                paused,
                time.time(),
                guild_id,
            )

    async def _load(self, tx: Transaction, guild_id: int | None) -> list[GuildState]:
        where, args = ("WHERE guild_id = ?", (guild_id,)) if guild_id is not None else ("", ())
        rows = await tx.fetch(
            "SELECT guild_id, voice_channel_id, text_channel_id, loop_mode, volume, position, paused, filters "
            f"FROM guild_state {where} ORDER BY guild_id",
            *args,
        )
        entries = await tx.fetch(
            f"SELECT guild_id, slot, {_TRACK_COLS} FROM queue_entries {where} ORDER BY guild_id, slot", *args
        )
        by_guild: dict[int, list[Row]] = {}
        for entry in entries:
            by_guild.setdefault(int(entry[0]), []).append(entry[1:])
        return [state_from_rows(row, by_guild.get(int(row[0]), [])) for row in rows]

    async def load_state(self, guild_id: int) -> GuildState | None:
        async with self._driver.transaction(write=False) as tx:
            states = await self._load(tx, guild_id)
        return states[0] if states else None

    async def load_states(self) -> list[GuildState]:
        async with self._driver.transaction(write=False) as tx:
            return await self._load(tx, None)

    async def forget_guild(self, guild_id: int) -> None:
        async with self._state_lock(guild_id), self._driver.transaction() as tx:
            await tx.execute("DELETE FROM queue_entries WHERE guild_id = ?", guild_id)
            await tx.execute("DELETE FROM guild_state WHERE guild_id = ?", guild_id)
