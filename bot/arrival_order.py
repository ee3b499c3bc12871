"""Commands of one guild that queue tracks do so in the order they were sent.

``play`` resolves its text concurrently with other lookups (yt-dlp runs in worker processes), so
two ``play`` commands sent back to back would otherwise queue whichever lookup finishes first. A
member who types two links expects them in the order typed: each command takes a turn when it
arrives, looks up as fast as it likes, and waits only before touching the queue until every earlier
command of that guild has queued (or failed).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator


class Turn:
    """One command's place in its guild's line."""

    def __init__(self, before: asyncio.Future[None] | None) -> None:
        self._before = before

    async def wait(self) -> None:
        """Until the command that arrived just before this one is done with the queue."""
        if self._before is not None:
            await asyncio.shield(self._before)  # cancelling us must not cancel the one before


class ArrivalOrder:
    """Per-guild first-come order for the queueing part of concurrent commands."""

    def __init__(self) -> None:
        self._last: dict[int, asyncio.Future[None]] = {}

    @contextlib.asynccontextmanager
    async def turn(self, guild_id: int) -> AsyncIterator[Turn]:
        """Take a turn now; leaving the block (done, failed or cancelled) lets the next one go."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        before = self._last.get(guild_id)
        self._last[guild_id] = done
        try:
            yield Turn(before)
        finally:
            done.set_result(None)
            if self._last.get(guild_id) is done:
                del self._last[guild_id]
