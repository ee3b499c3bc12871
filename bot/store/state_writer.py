"""Write-behind for player state: the player never waits on the database, and never loses order.

Each guild has at most one write in flight and one pending; a newer snapshot replaces the pending
one (coalescing), a checkpoint is folded into a pending snapshot, and a failed write is retried with
backoff unless something newer has arrived. If the database is unavailable, playback carries on from
memory and the newest state is written once it comes back.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass

from audio.errors import StoreError
from bot.store.base import Store
from bot.store.models import GuildState

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Pending:
    state: GuildState | None = None
    checkpoint: tuple[float, bool] | None = None
    forget: bool = False

    def __bool__(self) -> bool:
        return self.state is not None or self.checkpoint is not None or self.forget


class StateWriter:
    """Per-guild ordered, coalescing writer in front of ``Store.save_state``/``checkpoint``.

    Call ``save``/``checkpoint``/``forget`` from the event loop (they return at once); ``await
    flush(guild_id)`` where a user is about to be told a change is saved.
    """

    def __init__(
        self,
        store: Store,
        *,
        retry_initial: float = 1.0,
        retry_max: float = 30.0,
        on_health_change: Callable[[bool], None] | None = None,
    ) -> None:
        """``on_health_change(failing)`` is called when saving starts failing and when it works again."""
        self._store = store
        self._on_health_change = on_health_change
        self._closing = asyncio.Event()
        self._pending: dict[int, _Pending] = {}
        self._workers: dict[int, asyncio.Task[None]] = {}
        self._retry_initial = retry_initial
        self._retry_max = retry_max
        self._closed = False
        self.failing = False  # True while the last write failed; the bot may show UNAVAILABLE_MESSAGE

    def save(self, state: GuildState) -> None:
        pending = self._slot(state.guild_id)
        pending.state, pending.checkpoint, pending.forget = state, None, False
        self._kick(state.guild_id)

    def checkpoint(self, guild_id: int, position: float, *, paused: bool) -> None:
        pending = self._slot(guild_id)
        if pending.state is not None:
            pending.state = dataclasses.replace(pending.state, position=max(0.0, position), paused=paused)
        elif not pending.forget:
            pending.checkpoint = (max(0.0, position), paused)
        self._kick(guild_id)

    def forget(self, guild_id: int) -> None:
        pending = self._slot(guild_id)
        pending.state, pending.checkpoint, pending.forget = None, None, True
        self._kick(guild_id)

    async def flush(self, guild_id: int | None = None) -> None:
        """Wait until what was handed over so far is written (or given up on at close)."""
        while True:
            workers = [task for gid, task in self._workers.items() if guild_id is None or gid == guild_id]
            if not workers:
                return
            await asyncio.wait(workers)

    async def close(self) -> None:
        """Write what is pending (one attempt each), then stop."""
        self._closed = True
        self._closing.set()  # cut any backoff short
        await self.flush()

    def _slot(self, guild_id: int) -> _Pending:
        if self._closed:
            raise RuntimeError("StateWriter is closed")
        return self._pending.setdefault(guild_id, _Pending())

    def _kick(self, guild_id: int) -> None:
        if guild_id not in self._workers:
            task = asyncio.get_running_loop().create_task(
                self._drain(guild_id), name=f"state-writer-{guild_id}"
            )
            self._workers[guild_id] = task

    async def _drain(self, guild_id: int) -> None:
        delay = self._retry_initial
        try:
            while pending := self._pending.pop(guild_id, None):
                try:
                    await self._write(guild_id, pending)
                except StoreError as exc:
                    if not self.failing:
                        log.warning("Saving the state of guild %d failed; will retry: %s", guild_id, exc)
                    self._set_failing(True)
                    if self._closed:
                        log.warning("Gave up saving the state of guild %d at shutdown", guild_id)
                        return
                    self._requeue(guild_id, pending)
                    with contextlib.suppress(TimeoutError):  # back off; close() wakes us early
                        await asyncio.wait_for(self._closing.wait(), delay)
                    delay = min(delay * 2, self._retry_max)
                    continue
                except Exception:  # a bug, not an outage: retrying would fail the same way
                    log.exception("Dropped a state write for guild %d", guild_id)
                    continue
                if self.failing:
                    log.info("Saving player state works again")
                self._set_failing(False)
                delay = self._retry_initial
        finally:
            self._workers.pop(guild_id, None)

    def _set_failing(self, failing: bool) -> None:
        if failing != self.failing:
            self.failing = failing
            if self._on_health_change is not None:
                self._on_health_change(failing)

    async def _write(self, guild_id: int, pending: _Pending) -> None:
        if pending.forget:
            await self._store.forget_guild(guild_id)
        if pending.state is not None:
            await self._store.save_state(pending.state)
        elif pending.checkpoint is not None:
            position, paused = pending.checkpoint
            await self._store.checkpoint(guild_id, position, paused=paused)

    def _requeue(self, guild_id: int, failed: _Pending) -> None:
        """Put a failed write back underneath anything newer that arrived meanwhile."""
        newer = self._pending.get(guild_id)
        if newer is None:
            self._pending[guild_id] = failed
            return
        if newer.state is not None or newer.forget:
            return  # complete on its own
        if newer.checkpoint is not None and failed.state is not None:
            position, paused = newer.checkpoint
            failed.state = dataclasses.replace(failed.state, position=position, paused=paused)
            failed.checkpoint = None
        elif newer.checkpoint is not None:
            failed.checkpoint = newer.checkpoint
        self._pending[guild_id] = failed
