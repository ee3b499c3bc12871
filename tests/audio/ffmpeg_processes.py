"""Leak checks: the ffmpeg children of the test process."""

from __future__ import annotations

import asyncio

import psutil


def ffmpeg_children() -> list[psutil.Process]:
    """Our ffmpeg child processes that are still alive (zombies count: they were never reaped)."""
    found = []
    for child in psutil.Process().children(recursive=True):
        try:
            if "ffmpeg" in child.name():
                found.append(child)
        except psutil.NoSuchProcess:
            continue
    return found


async def wait_no_ffmpeg(timeout: float = 10.0) -> list[psutil.Process]:
    """Poll until no ffmpeg child is left; returns the leftovers on timeout.

    Polling (not ``psutil.wait_procs``) on purpose: waiting would reap zombies and hide exactly
    the leak this looks for.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        left = ffmpeg_children()
        if not left or loop.time() >= deadline:
            return left
        await asyncio.sleep(0.05)
