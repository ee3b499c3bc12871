"""The store's part for the queue's memory: per-guild queue settings, the play history and the undo step.

A mixin of :class:`~bot.store.sql_store.SqlStore` (the same ``Driver`` and SQL for both backends).
The history is bounded per guild: each insert deletes what falls out of the newest ``keep`` rows.
The undo step is one per guild, its ``before`` and ``after`` queues stored as slots.
"""

from __future__ import annotations

import logging
import time

from audio.queue_order import QueueMode
from audio.track import Track
from bot.store.driver import Driver, Row
from bot.store.models import HistoryEntry, QueueSettings, UndoStep
from bot.store.track_rows import TRACK_COLUMNS, track_from_row, track_values

log = logging.getLogger(__name__)

_COLS = ", ".join(TRACK_COLUMNS)
_MARKS = ", ".join("?" * len(TRACK_COLUMNS))
_SIDES = ("before", "after")
SEARCH_SITES = ("youtube", "soundcloud")


def _settings_from_row(row: Row) -> QueueSettings:
    guild_id = int(row[0])
    try:
        mode = QueueMode(row[1])
    except ValueError:
        log.warning("Ignoring a damaged queue mode in the settings of guild %d", guild_id)
        mode = QueueMode.FIFO
    site = row[3] if row[3] in SEARCH_SITES else "youtube"
    return QueueSettings(guild_id, mode, bool(row[2]), site)


class QueueMemoryStore:
    """Queue settings, history and undo over ``self._driver``; every statement names its guild."""

    _driver: Driver

    async def load_queue_settings(self) -> list[QueueSettings]:
        async with self._driver.transaction(write=False) as tx:
            rows = await tx.fetch(
                "SELECT guild_id, queue_mode, autoplay, search_site FROM queue_settings ORDER BY guild_id"
            )
        return [_settings_from_row(row) for row in rows]

    async def save_queue_settings(self, settings: QueueSettings) -> None:
        async with self._driver.transaction() as tx:
            await tx.execute(
                "INSERT INTO queue_settings (guild_id, queue_mode, autoplay, search_site, updated_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (guild_id) DO UPDATE SET "
                "queue_mode = excluded.queue_mode, autoplay = excluded.autoplay, "
                "search_site = excluded.search_site, updated_at = excluded.updated_at",
                settings.guild_id,
                settings.queue_mode.value,
                settings.autoplay,
                settings.search_site,
                time.time(),
            )

    async def add_history(
        self, guild_id: int, track: Track, *, keep: int, played_at: float | None = None
    ) -> None:
        """Append ``track`` to the guild's history and drop what is older than the newest ``keep``."""
        async with self._driver.transaction() as tx:
            await tx.execute(
                f"INSERT INTO play_history (guild_id, played_at, {_COLS}) VALUES (?, ?, {_MARKS})",
                guild_id,
                time.time() if played_at is None else played_at,
                *track_values(track),
            )
            await tx.execute(
                "DELETE FROM play_history WHERE guild_id = ? AND id <= (SELECT id FROM play_history "
                "WHERE guild_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)",
                guild_id,
                guild_id,
                keep,
            )

    async def history(self, guild_id: int, *, limit: int) -> list[HistoryEntry]:
        """The guild's newest ``limit`` history entries, newest first; damaged rows are skipped."""
        async with self._driver.transaction(write=False) as tx:
            rows = await tx.fetch(
                f"SELECT played_at, {_COLS} FROM play_history WHERE guild_id = ? ORDER BY id DESC LIMIT ?",
                guild_id,
                limit,
            )
        where = f"the history of guild {guild_id}"
        return [
            HistoryEntry(track, float(row[0]))
            for row in rows
            if (track := track_from_row(row[1:], where=where)) is not None
        ]

    async def save_undo(self, guild_id: int, step: UndoStep) -> None:
        rows = [
            (guild_id, side, slot, *track_values(track))
            for side, tracks in zip(_SIDES, (step.before, step.after), strict=True)
            for slot, track in enumerate(tracks)
        ]
        async with self._driver.transaction() as tx:
            await tx.execute("DELETE FROM undo_entries WHERE guild_id = ?", guild_id)
            await tx.execute("DELETE FROM undo_steps WHERE guild_id = ?", guild_id)
            await tx.execute(
                "INSERT INTO undo_steps (guild_id, kind, member_id, created_at) VALUES (?, ?, ?, ?)",
                guild_id,
                step.kind,
                step.member_id,
                time.time(),
            )
            if rows:
                await tx.executemany(
                    f"INSERT INTO undo_entries (guild_id, side, slot, {_COLS}) VALUES (?, ?, ?, {_MARKS})",
                    rows,
                )

    async def load_undo(self, guild_id: int) -> UndoStep | None:
        async with self._driver.transaction(write=False) as tx:
            header = await tx.fetchrow("SELECT kind, member_id FROM undo_steps WHERE guild_id = ?", guild_id)
            if header is None:
                return None
            rows = await tx.fetch(
                f"SELECT side, {_COLS} FROM undo_entries WHERE guild_id = ? ORDER BY side, slot", guild_id
            )
        sides: dict[str, list[Track]] = {side: [] for side in _SIDES}
        for row in rows:
            track = track_from_row(row[1:], where=f"the undo step of guild {guild_id}")
            if track is not None and row[0] in sides:
                sides[row[0]].append(track)
        member_id = header[1] if isinstance(header[1], int) else None
        return UndoStep(str(header[0]), tuple(sides["before"]), tuple(sides["after"]), member_id)

    async def drop_undo(self, guild_id: int) -> None:
        async with self._driver.transaction() as tx:
            await tx.execute("DELETE FROM undo_entries WHERE guild_id = ?", guild_id)
            await tx.execute("DELETE FROM undo_steps WHERE guild_id = ?", guild_id)

    async def forget_queue_memory(self, guild_id: int) -> None:
        """The bot left the guild: its queue settings, history and undo step go."""
        async with self._driver.transaction() as tx:
            for table in ("undo_entries", "undo_steps", "play_history", "queue_settings"):
                await tx.execute(f"DELETE FROM {table} WHERE guild_id = ?", guild_id)  # noqa: S608
