"""Cross-thread waiting on the fake's state without sleeps.

The fake runs on its own event loop in its own thread; tests (and the bot) run on another. Every
state change on the fake's loop calls :meth:`Notifier.notify`; a waiter re-checks its predicate on
the fake's loop each time, and the test awaits the result from its own loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


class WaitTimeout(AssertionError):
    """A wait on the fake ran out of time; the message says what was awaited and what was seen."""


class Notifier:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._changed = asyncio.Event()

    def notify(self) -> None:
        """Wake every waiter; only ever called on the fake's loop."""
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def _wait(self, probe: Callable[[], T | None], timeout: float, describe: Callable[[], str]) -> T:
        try:
            async with asyncio.timeout(timeout):
                while True:
                    changed = self._changed
                    value = probe()
                    if value is not None and value is not False:
                        return value
                    await changed.wait()
        except TimeoutError:
            raise WaitTimeout(f"timed out after {timeout:.1f}s waiting for {describe()}") from None

    async def wait(self, probe: Callable[[], T | None], timeout: float, describe: Callable[[], str]) -> T:
        """Await until ``probe()`` returns something truthy-or-not-None and return it.

        ``probe`` runs on the fake's loop, so it may read the fake's state without locks.
        """
        return await self.run(self._wait(probe, timeout, describe))

    async def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the fake's loop and await it from whichever loop the caller is on."""
        try:
            current = asyncio.get_running_loop()
        except RuntimeError:
            current = None
        if current is self.loop:
            return await coro
        future: concurrent.futures.Future[T] = asyncio.run_coroutine_threadsafe(coro, self.loop)
        return await asyncio.wrap_future(future)

    def call(self, fn: Callable[[], T], timeout: float = 10.0) -> T:
        """Run a plain function on the fake's loop and block for its result (for sync test APIs)."""

        async def runner() -> T:
            return fn()

        try:
            if asyncio.get_running_loop() is self.loop:
                return fn()
        except RuntimeError:
            pass
        return asyncio.run_coroutine_threadsafe(runner(), self.loop).result(timeout)
