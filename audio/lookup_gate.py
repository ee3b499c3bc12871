"""Who gets the next lookup worker: playback before new lookups, and a bound on how many wait.

The worker pool is small (a process each), so its order matters. A track that is about to play
needs a fresh stream URL now; a member's new ``play`` can wait a moment. Without a bound, a burst
of links from many servers would queue behind each other for minutes; past ``max_waiting`` a member
is told the bot is busy instead.
"""

from __future__ import annotations

import asyncio
import enum
import heapq
import itertools
from collections.abc import Callable

from audio.errors import LimitReached

MSG_BUSY = "I'm busy with other lookups right now; try again in a moment."


class Priority(enum.IntEnum):
    PLAYBACK = 0  # the stream of a queued track, or measuring one that plays
    LOOKUP = 1  # a member's play, search or playlist


class LookupGate:
    """At most ``capacity`` jobs hold a slot at once; the rest wait by priority, then arrival.

    A slot is released by calling the function :meth:`acquire` returns, which the extractor does
    when the worker is really done (not when the caller stopped waiting), so the count always
    matches the busy workers. Used on one event loop only.
    """

    def __init__(self, capacity: int, *, max_waiting: int) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self.max_waiting = max(0, max_waiting)
        self._running = 0
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    @property
    def running(self) -> int:
        return self._running

    @property
    def waiting(self) -> int:
        return sum(1 for _, _, future in self._waiters if not future.done())

    async def acquire(self, priority: Priority) -> Callable[[], None]:
        """Wait for a slot; returns its release (call it once). LOOKUP raises LimitReached when full."""
        if self._running < self.capacity and not self.waiting:
            self._running += 1
            return self._releaser()
        if priority is Priority.LOOKUP:
            waiting_lookups = sum(
                1 for rank, _, future in self._waiters if rank == Priority.LOOKUP and not future.done()
            )
            if waiting_lookups >= self.max_waiting:
                raise LimitReached(MSG_BUSY, detail=f"{waiting_lookups} lookups already waiting")
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (int(priority), next(self._order), future))
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self._release()  # granted just as the caller gave up: pass it on
            raise
        return self._releaser()

    def _releaser(self) -> Callable[[], None]:
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                self._release()

        return release

    def _release(self) -> None:
        self._running -= 1
        while self._waiters:
            _, _, future = heapq.heappop(self._waiters)
            if not future.done():
                self._running += 1
                future.set_result(None)
                return
