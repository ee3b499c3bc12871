"""Each guild's queue settings (queue mode, autoplay, default search site), in memory and in the store.

Loaded once when the queue cog loads, so a player made later (a restore, the first `play`) gets its
guild's mode at once; a change is written through before the member is told.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import Any

from audio.errors import StoreError
from bot.store import QueueSettings, Store

log = logging.getLogger(__name__)


class QueueSettingsBook:
    def __init__(self, store: Callable[[], Store | None]) -> None:
        self._store = store
        self._by_guild: dict[int, QueueSettings] = {}

    async def load(self) -> None:
        if (store := self._store()) is None:
            return
        try:
            saved = await store.load_queue_settings()
        except StoreError as exc:
            log.warning("the saved queue settings could not be read: %s", exc)
            return
        self._by_guild.update((settings.guild_id, settings) for settings in saved)

    def get(self, guild_id: int) -> QueueSettings:
        return self._by_guild.get(guild_id) or QueueSettings(guild_id)

    async def change(self, guild_id: int, **changes: Any) -> QueueSettings:
        """Apply ``changes`` (field=value) and save; the new settings even if the save failed (logged)."""
        settings = dataclasses.replace(self.get(guild_id), **changes)
        self._by_guild[guild_id] = settings
        if (store := self._store()) is not None:
            try:
                await store.save_queue_settings(settings)
            except StoreError as exc:
                log.warning("guild %s: the queue settings were not saved: %s", guild_id, exc)
        return settings

    def forget(self, guild_id: int) -> None:
        self._by_guild.pop(guild_id, None)
