"""Leak checks: the ffmpeg children of the test process.

The OS gives no event for "a child started" or "a child was reaped", so these poll psutil until a
condition holds or the timeout passes. Polling (not ``psutil.wait_procs``) on purpose: waiting
would reap zombies and hide exactly the leak this looks for.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import psutil

_POLL = 0.02


def ffmpeg_children() -> list[psutil.Process]:
    """Our ffmpeg child processes that still exist (zombies count: they were never reaped)."""
    found = []
    for child in psutil.Process().children(recursive=True):
        try:
            if "ffmpeg" in child.name():
                found.append(child)
        except psutil.NoSuchProcess:
            continue
    return found


def ffmpeg_pids() -> set[int]:
    return {p.pid for p in ffmpeg_children()}


async def wait_for_ffmpeg(predicate: Callable[[set[int]], bool], timeout: float = 10.0) -> set[int]:
    """Poll until ``predicate(pids of our ffmpeg children)`` holds; returns the last pid set."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        pids = ffmpeg_pids()
        if predicate(pids) or loop.time() >= deadline:
            return pids
        await asyncio.sleep(_POLL)


async def wait_no_ffmpeg(timeout: float = 10.0) -> list[psutil.Process]:
    """Wait until no ffmpeg child is left; returns the leftovers on timeout."""
    await wait_for_ffmpeg(lambda pids: not pids, timeout)
    return ffmpeg_children()
