"""Leaves voice channels nobody is listening to.

A guild's countdown is armed when the bot is alone in its channel or has nothing playing, and
disarmed as soon as either changes. When it expires the condition is checked once more, so a race
between a member rejoining and the timer firing can never kick the bot out of a busy channel.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


class IdleTimer:
    def __init__(
        self,
        timeout: float,
        *,
        is_idle: Callable[[int], bool],
        on_expire: Callable[[int], Awaitable[None]],
        timeout_for: Callable[[int], float] | None = None,
    ) -> None:
        self.timeout = timeout
        self._timeout_for = timeout_for  # a server's own timeout; ``timeout`` when None
        self._is_idle = is_idle
        self._on_expire = on_expire
        self._tasks: dict[int, asyncio.Task[None]] = {}

    def armed(self, guild_id: int) -> bool:
        task = self._tasks.get(guild_id)
        return task is not None and not task.done()

    def update(self, guild_id: int) -> None:
        """Re-evaluate one guild: arm if idle and not yet counting, disarm if busy."""
        if self._is_idle(guild_id):
            if not self.armed(guild_id):
                self._tasks[guild_id] = asyncio.get_running_loop().create_task(self._countdown(guild_id))
        else:
            self.disarm(guild_id)

    def disarm(self, guild_id: int) -> None:
        task = self._tasks.pop(guild_id, None)
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    def close(self) -> None:
        for guild_id in list(self._tasks):
            self.disarm(guild_id)

    async def _countdown(self, guild_id: int) -> None:
        timeout = self.timeout if self._timeout_for is None else self._timeout_for(guild_id)
        await asyncio.sleep(timeout)
        self._tasks.pop(guild_id, None)
        if not self._is_idle(guild_id):
            return
        log.info("guild %s idle for %.0f s; leaving voice", guild_id, timeout)
        try:
            await self._on_expire(guild_id)
        except Exception:
            log.exception("leaving idle guild %s failed", guild_id)
