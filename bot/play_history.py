"""What each guild played: kept in the store (the newest ``HISTORY_SIZE``), read by `history`,
`previous` and autoplay.

A track is recorded when it leaves the player (finished, skipped, stopped; not when it failed), so
the history holds what played before the current track. The same track again right after itself
(loop track, a track resumed after a rejoin) is one entry, so the history lists plays a member
would recognise.
"""

from __future__ import annotations

import collections
import logging
import time
from collections.abc import Callable

from audio.errors import StoreError
from audio.track import Track
from bot.store import HistoryEntry, Store

log = logging.getLogger(__name__)

HISTORY_SIZE = 200


class PlayHistory:
    """Per guild, the newest plays (newest last) in memory, written through to the store."""

    def __init__(self, store: Callable[[], Store | None], *, size: int = HISTORY_SIZE) -> None:
        self._store = store
        self.size = size
        self._plays: dict[int, collections.deque[HistoryEntry]] = {}

    async def record(self, guild_id: int, track: Track) -> None:
        plays = await self._loaded(guild_id)
        if plays and plays[-1].track.page_url == track.page_url:
            return
        entry = HistoryEntry(track, time.time())
        plays.append(entry)
        if (store := self._store()) is not None:
            try:
                await store.add_history(guild_id, track, keep=self.size, played_at=entry.played_at)
            except StoreError as exc:
                log.warning("guild %s: the history entry was not saved: %s", guild_id, exc)

    async def recent(self, guild_id: int) -> list[HistoryEntry]:
        """The guild's history, newest first."""
        return list(reversed(await self._loaded(guild_id)))

    async def before(self, guild_id: int, current: Track | None) -> Track | None:
        """The track played before ``current`` (the last one played when nothing plays)."""
        plays = await self.recent(guild_id)
        if current is not None and plays and plays[0].track.page_url == current.page_url:
            plays = plays[1:]
        return plays[0].track if plays else None

    def forget(self, guild_id: int) -> None:
        self._plays.pop(guild_id, None)

    async def _loaded(self, guild_id: int) -> collections.deque[HistoryEntry]:
        plays = self._plays.get(guild_id)
        if plays is not None:
            return plays
        saved: list[HistoryEntry] = []
        if (store := self._store()) is not None:
            try:
                saved = await store.history(guild_id, limit=self.size)
            except StoreError as exc:
                log.warning("guild %s: the saved history could not be read: %s", guild_id, exc)
        # Another call may have loaded it while this one waited for the store.
        return self._plays.setdefault(guild_id, collections.deque(reversed(saved), maxlen=self.size))
