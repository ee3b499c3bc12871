"""The store's part for the queue's memory: the play history and the undo step of each guild.

A mixin of :class:`~bot.store.sql_store.SqlStore` (the same ``Driver`` and SQL for both backends).
The history is bounded per guild: each insert deletes what falls out of the newest ``keep`` rows.
The undo step is one per guild, its ``before`` and ``after`` queues stored as slots.
"""

from __future__ import annotations

import logging
import time

from audio.track import Track
from bot.store.driver import Driver
from bot.store.models import HistoryEntry, UndoStep
from bot.store.track_rows import TRACK_COLUMNS, track_from_row, track_values

log = logging.getLogger(__name__)

_COLS = ", ".join(TRACK_COLUMNS)
_MARKS = ", ".join("?" * len(TRACK_COLUMNS))
_SIDES = ("before", "after")


class QueueMemoryStore:
    """History and undo over ``self._driver``; every statement names its guild."""

    _driver: Driver

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
        """The bot left the guild: its history and undo step go."""
        async with self._driver.transaction() as tx:
            for table in ("undo_entries", "undo_steps", "play_history"):
                await tx.execute(f"DELETE FROM {table} WHERE guild_id = ?", guild_id)  # noqa: S608
