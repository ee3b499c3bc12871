"""The player event bus: typed events, delivered in order, one subscriber after the other."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from audio.events import EndReason, PlayerEvent, PlayerEvents, StateChanged, TrackEnded, TrackStarted
from tests.audio.player_doubles import make_track


class FakePlayer:
    guild_id = 77


PLAYER: Any = FakePlayer()
TRACK = make_track("one", 1.0)


async def test_every_subscriber_hears_every_event_in_order_one_after_the_other() -> None:
    heard: list[str] = []
    gate = asyncio.Event()

    async def slow(event: PlayerEvent) -> None:
        await gate.wait()  # holds back the events after it, never the player
        heard.append(f"slow {type(event).__name__}")

    def quick(event: PlayerEvent) -> None:
        heard.append(f"quick {type(event).__name__}")

    bus = PlayerEvents()
    bus.subscribe(slow)
    bus.subscribe(quick)
    outbox = bus.outbox(asyncio.get_running_loop(), name="test")
    outbox.emit(TrackStarted(PLAYER, TRACK))
    outbox.emit(StateChanged(PLAYER))
    outbox.emit(TrackEnded(PLAYER, TRACK, EndReason.FINISHED))
    await asyncio.sleep(0.01)
    assert heard == []
    gate.set()
    await outbox.close()
    assert heard == [
        "slow TrackStarted", "quick TrackStarted", "slow StateChanged", "quick StateChanged",
        "slow TrackEnded", "quick TrackEnded",
    ]  # fmt: skip


async def test_a_failing_subscriber_is_logged_and_the_others_still_hear(caplog: pytest.LogCaptureFixture) -> None:
    heard: list[PlayerEvent] = []

    def broken(event: PlayerEvent) -> None:
        raise RuntimeError("subscriber bug")

    bus = PlayerEvents()
    bus.subscribe(broken)
    bus.subscribe(heard.append)
    outbox = bus.outbox(asyncio.get_running_loop(), name="test")
    event = TrackEnded(PLAYER, TRACK, EndReason.FAILED, RuntimeError("gone"))
    outbox.emit(event)
    await outbox.close()
    assert heard == [event] and event.guild_id == 77
    assert "subscriber bug" in caplog.text


async def test_unsubscribed_hears_nothing_more_and_players_share_one_bus() -> None:
    heard: list[PlayerEvent] = []
    bus = PlayerEvents()
    bus.subscribe(heard.append)
    loop = asyncio.get_running_loop()
    first, second = bus.outbox(loop, name="first"), bus.outbox(loop, name="second")
    first.emit(StateChanged(PLAYER))
    second.emit(StateChanged(PLAYER))
    await asyncio.sleep(0)
    bus.unsubscribe(heard.append)
    bus.unsubscribe(heard.append)  # twice is harmless
    first.emit(StateChanged(PLAYER))
    await first.close()
    await second.close()
    assert len(heard) == 2 and bus.subscribers == ()


async def test_a_closed_outbox_delivers_what_was_pending_and_takes_nothing_new() -> None:
    heard: list[PlayerEvent] = []
    bus = PlayerEvents()
    bus.subscribe(heard.append)
    outbox = bus.outbox(asyncio.get_running_loop(), name="test")
    outbox.emit(StateChanged(PLAYER))
    await outbox.close()
    outbox.emit(StateChanged(PLAYER))
    await asyncio.sleep(0.01)
    assert len(heard) == 1
