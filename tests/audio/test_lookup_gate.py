"""LookupGate: who gets the next lookup worker, and that no slot is ever lost or counted twice.

Everything here runs on one event loop; a waiter's position is fixed by letting its task run up to
its wait (``settle``), never by sleeping.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from audio.errors import LimitReached
from audio.lookup_gate import MSG_BUSY, LookupGate, Priority

Release = Callable[[], None]


async def settle() -> None:
    """Let every ready task run up to its next wait (a waiter queues inside its first step)."""
    for _ in range(5):
        await asyncio.sleep(0)


async def queue_up(gate: LookupGate, priority: Priority, name: str, served: list[str]) -> asyncio.Task[None]:
    """A waiter that notes when it is served and hands its slot straight back."""

    async def waiter() -> None:
        release = await gate.acquire(priority)
        served.append(name)
        release()

    task = asyncio.create_task(waiter(), name=name)
    await settle()  # queued now, so arrival order is the order of these calls
    assert not task.done(), f"{name} was served without waiting"
    return task


async def test_no_more_than_capacity_hold_a_slot() -> None:
    gate = LookupGate(2, max_waiting=5)
    first = await gate.acquire(Priority.LOOKUP)
    second = await gate.acquire(Priority.PLAYBACK)
    assert gate.running == 2
    third = asyncio.create_task(gate.acquire(Priority.PLAYBACK))
    await settle()
    assert not third.done() and gate.waiting == 1 and gate.running == 2
    first()
    release_third = await asyncio.wait_for(third, 5)
    assert gate.running == 2 and gate.waiting == 0
    second()
    release_third()
    assert gate.running == 0


async def test_playback_waiters_go_before_lookups_whatever_their_arrival() -> None:
    gate = LookupGate(1, max_waiting=10)
    held = await gate.acquire(Priority.LOOKUP)
    served: list[str] = []
    tasks = [
        await queue_up(gate, Priority.LOOKUP, "lookup-1", served),
        await queue_up(gate, Priority.PLAYBACK, "playback-1", served),
        await queue_up(gate, Priority.LOOKUP, "lookup-2", served),
        await queue_up(gate, Priority.PLAYBACK, "playback-2", served),
    ]
    held()
    await asyncio.wait_for(asyncio.gather(*tasks), 5)
    assert served == ["playback-1", "playback-2", "lookup-1", "lookup-2"]
    assert gate.running == 0


async def test_waiters_of_one_priority_are_served_first_come_first_served() -> None:
    gate = LookupGate(1, max_waiting=10)
    held = await gate.acquire(Priority.PLAYBACK)
    served: list[str] = []
    names = [f"lookup-{i}" for i in range(5)]
    tasks = [await queue_up(gate, Priority.LOOKUP, name, served) for name in names]
    held()
    await asyncio.wait_for(asyncio.gather(*tasks), 5)
    assert served == names
    assert gate.running == 0


async def test_lookups_past_max_waiting_are_refused_while_playback_still_queues() -> None:
    gate = LookupGate(1, max_waiting=2)
    held = await gate.acquire(Priority.LOOKUP)
    served: list[str] = []
    waiting = [await queue_up(gate, Priority.LOOKUP, f"lookup-{i}", served) for i in range(2)]
    with pytest.raises(LimitReached) as refused:
        await gate.acquire(Priority.LOOKUP)
    assert refused.value.user_message == MSG_BUSY
    assert gate.waiting == 2  # the refused one left nothing behind
    playback = await queue_up(gate, Priority.PLAYBACK, "playback", served)
    assert gate.waiting == 3
    held()
    await asyncio.wait_for(asyncio.gather(*waiting, playback), 5)
    assert served == ["playback", "lookup-0", "lookup-1"]
    assert gate.running == 0


async def test_a_free_slot_takes_a_lookup_even_with_max_waiting_zero() -> None:
    gate = LookupGate(1, max_waiting=0)
    release = await gate.acquire(Priority.LOOKUP)
    with pytest.raises(LimitReached) as refused:
        await gate.acquire(Priority.LOOKUP)
    assert refused.value.user_message == MSG_BUSY
    release()
    (await gate.acquire(Priority.LOOKUP))()
    assert gate.running == 0


async def test_a_waiter_cancelled_after_it_was_granted_passes_the_slot_on() -> None:
    gate = LookupGate(1, max_waiting=10)
    held = await gate.acquire(Priority.LOOKUP)
    granted_too_late = asyncio.create_task(gate.acquire(Priority.LOOKUP))
    next_in_line = asyncio.create_task(gate.acquire(Priority.LOOKUP))
    await settle()
    assert gate.waiting == 2
    held()  # grants the first waiter; its task has not run since
    granted_too_late.cancel()  # its caller gives up in the same loop turn
    with pytest.raises(asyncio.CancelledError):
        await granted_too_late
    release = await asyncio.wait_for(next_in_line, 5)
    assert gate.running == 1
    release()
    assert gate.running == 0 and gate.waiting == 0


async def test_a_waiter_cancelled_before_its_turn_takes_nothing() -> None:
    gate = LookupGate(1, max_waiting=10)
    held = await gate.acquire(Priority.LOOKUP)
    gave_up = asyncio.create_task(gate.acquire(Priority.LOOKUP))
    await settle()
    gave_up.cancel()
    with pytest.raises(asyncio.CancelledError):
        await gave_up
    assert gate.waiting == 0
    held()
    assert gate.running == 0
    (await gate.acquire(Priority.LOOKUP))()
    assert gate.running == 0


async def test_a_wait_for_timeout_on_acquire_leaks_nothing() -> None:
    """What the extractor does: ``wait_for(acquire(), timeout)``, here timing out while queued."""
    gate = LookupGate(1, max_waiting=10)
    held = await gate.acquire(Priority.PLAYBACK)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(gate.acquire(Priority.LOOKUP), 0.01)
    held()
    assert gate.running == 0 and gate.waiting == 0


async def test_releasing_twice_is_harmless() -> None:
    gate = LookupGate(1, max_waiting=10)
    release = await gate.acquire(Priority.LOOKUP)
    release()
    release()
    assert gate.running == 0
    held = await gate.acquire(Priority.LOOKUP)
    first = asyncio.create_task(gate.acquire(Priority.LOOKUP))
    second = asyncio.create_task(gate.acquire(Priority.LOOKUP))
    await settle()
    held()
    held()  # must not grant a second waiter: one slot was freed, once
    await settle()
    assert first.done() and not second.done()
    assert gate.running == 1 and gate.waiting == 1
    (await first)()
    (await asyncio.wait_for(second, 5))()
    assert gate.running == 0


def test_capacity_must_be_positive() -> None:
    with pytest.raises(ValueError, match="capacity"):
        LookupGate(0, max_waiting=1)
