from __future__ import annotations

import asyncio

from bot.idle import IdleTimer


async def test_idle_guild_is_left_after_the_timeout() -> None:
    left = asyncio.Event()

    async def leave(guild_id: int) -> None:
        assert guild_id == 7
        left.set()

    timer = IdleTimer(0.01, is_idle=lambda g: True, on_expire=leave)
    timer.update(7)
    assert timer.armed(7)
    await asyncio.wait_for(left.wait(), 5)


async def test_activity_disarms_and_a_late_check_prevents_leaving() -> None:
    idle = {7: True}
    calls: list[int] = []

    async def leave(guild_id: int) -> None:
        calls.append(guild_id)

    timer = IdleTimer(0.01, is_idle=lambda g: idle[g], on_expire=leave)
    timer.update(7)
    task = timer._tasks[7]
    idle[7] = False
    timer.update(7)  # someone started playing: countdown cancelled
    assert not timer.armed(7)
    await asyncio.gather(task, return_exceptions=True)
    assert task.cancelled() and calls == []

    # A member rejoins between arming and expiry without an update: the final check still holds.
    idle[7] = True
    timer.update(7)
    task = timer._tasks[7]
    idle[7] = False
    await asyncio.wait_for(task, 5)
    assert calls == []
