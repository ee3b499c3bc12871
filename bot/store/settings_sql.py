"""The store's settings half: per-server settings (name -> text), blocked members, and bot-wide values.

Values are kept as the text ``bot.guild_settings`` wrote; that module reads them back into frozen
values, so a setting added later needs no migration. Guild id 0 in ``blocked_users`` is the bot
owner's list, which applies everywhere.
"""

from __future__ import annotations

import logging

from bot.store.driver import Driver

log = logging.getLogger(__name__)

EVERYWHERE = 0  # the guild id of the owner's block list


class SettingsSql:
    """Mixed into SqlStore, which supplies ``_driver``."""

    _driver: Driver

    async def guild_settings(self, guild_id: int) -> dict[str, str]:
        async with self._driver.transaction(write=False) as tx:
            rows = await tx.fetch("SELECT name, value FROM guild_settings WHERE guild_id = ?", guild_id)
        return {str(name): str(value) for name, value in rows}

    async def all_guild_settings(self) -> dict[int, dict[str, str]]:
        async with self._driver.transaction(write=False) as tx:
            rows = await tx.fetch("SELECT guild_id, name, value FROM guild_settings")
        found: dict[int, dict[str, str]] = {}
        for guild_id, name, value in rows:
            found.setdefault(int(guild_id), {})[str(name)] = str(value)
        return found

    async def set_guild_setting(self, guild_id: int, name: str, value: str | None) -> None:
        """``None`` puts the setting back to the bot-wide default."""
        async with self._driver.transaction() as tx:
            await tx.execute("DELETE FROM guild_settings WHERE guild_id = ? AND name = ?", guild_id, name)
            if value is not None:
                await tx.execute(
                    "INSERT INTO guild_settings (guild_id, name, value) VALUES (?, ?, ?)", guild_id, name, value
                )

    async def blocked_users(self) -> dict[int, set[int]]:
        """Every block list: guild id (``EVERYWHERE`` for the owner's) -> member ids."""
        async with self._driver.transaction(write=False) as tx:
            rows = await tx.fetch("SELECT guild_id, user_id FROM blocked_users")
        found: dict[int, set[int]] = {}
        for guild_id, user_id in rows:
            found.setdefault(int(guild_id), set()).add(int(user_id))
        return found

    async def set_blocked(self, guild_id: int, user_id: int, blocked: bool) -> None:
        async with self._driver.transaction() as tx:
            await tx.execute("DELETE FROM blocked_users WHERE guild_id = ? AND user_id = ?", guild_id, user_id)
            if blocked:
                await tx.execute("INSERT INTO blocked_users (guild_id, user_id) VALUES (?, ?)", guild_id, user_id)

    async def bot_value(self, name: str) -> str | None:
        async with self._driver.transaction(write=False) as tx:
            value = await tx.fetchval("SELECT value FROM bot_values WHERE name = ?", name)
        return None if value is None else str(value)

    async def set_bot_value(self, name: str, value: str) -> None:
        async with self._driver.transaction() as tx:
            await tx.execute("DELETE FROM bot_values WHERE name = ?", name)
            await tx.execute("INSERT INTO bot_values (name, value) VALUES (?, ?)", name, value)
