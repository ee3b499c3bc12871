"""ArrivalOrder: commands queue in the order they arrived, whatever order their lookups finish in."""

from __future__ import annotations

import asyncio

import pytest

from bot.arrival_order import ArrivalOrder


async def test_a_later_command_whose_lookup_finishes_first_still_waits_its_turn() -> None:
    order = ArrivalOrder()
    queued: list[str] = []
    first_lookup = asyncio.Event()

    async def command(name: str, lookup: asyncio.Event | None) -> None:
        async with order.turn(7) as turn:
            if lookup is not None:
                await lookup.wait()  # a slow lookup
            await turn.wait()
            queued.append(name)

    slow = asyncio.create_task(command("first", first_lookup))
    await asyncio.sleep(0)  # the first command has taken its turn
    fast = asyncio.create_task(command("second", None))
    for _ in range(5):
        await asyncio.sleep(0)
    assert queued == []  # the second one's lookup is done, but the first has not queued yet
    first_lookup.set()
    await asyncio.gather(slow, fast)
    assert queued == ["first", "second"]


async def test_a_failed_or_cancelled_command_lets_the_next_one_go() -> None:
    order = ArrivalOrder()
    queued: list[str] = []
    hang = asyncio.Event()

    async def failing() -> None:
        async with order.turn(7):
            raise RuntimeError("lookup failed")

    async def hanging() -> None:
        async with order.turn(7):
            await hang.wait()

    async def ok(name: str) -> None:
        async with order.turn(7) as turn:
            await turn.wait()
            queued.append(name)

    with pytest.raises(RuntimeError):
        await failing()
    stuck = asyncio.create_task(hanging())
    await asyncio.sleep(0)
    after = asyncio.create_task(ok("after the hang"))
    await asyncio.sleep(0)
    stuck.cancel()
    await asyncio.wait_for(after, 5)
    assert queued == ["after the hang"]


async def test_guilds_do_not_wait_for_each_other() -> None:
    order = ArrivalOrder()
    hang = asyncio.Event()

    async def hanging() -> None:
        async with order.turn(1):
            await hang.wait()

    stuck = asyncio.create_task(hanging())
    await asyncio.sleep(0)
    async with order.turn(2) as turn:
        await asyncio.wait_for(turn.wait(), 5)
    hang.set()
    await stuck
