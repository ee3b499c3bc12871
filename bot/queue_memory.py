"""What the bot remembers about each guild's queue beyond the queue itself: its history and undo step.

One object on the bot (``BrentBot.queue_memory``) so the player factory, the queue cogs and the
history recorder share it; each part reads the bot's store when it needs it (the store is attached
after the bot is built).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from audio.errors import StoreError
from bot.play_history import PlayHistory
from bot.store import Store
from bot.undo import UndoBook

log = logging.getLogger(__name__)


class QueueMemory:
    def __init__(self, store: Callable[[], Store | None]) -> None:
        self._store = store
        self.history = PlayHistory(store)
        self.undo = UndoBook(store)

    async def forget(self, guild_id: int) -> None:
        """The bot left the guild: its history and undo step go, here and in the store."""
        self.history.forget(guild_id)
        self.undo.forget(guild_id)
        if (store := self._store()) is not None:
            try:
                await store.forget_queue_memory(guild_id)
            except StoreError as exc:
                log.warning("guild %s: its history and undo step were not deleted: %s", guild_id, exc)
