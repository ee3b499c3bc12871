"""What a GuildPlayer tells the rest of the bot, and the one bus it tells it on.

Events are frozen dataclasses, so a subscriber gets named, typed fields instead of positional
arguments it has to know the order of, and can ignore the kinds it does not care about.

Ordering: every player publishes through an :class:`Outbox` of its own. An outbox delivers its
events one after another, each to every subscriber in the order they subscribed, from a task of its
own: a slow or broken subscriber never delays or stops playback (its exception is logged), and never
sees a player's events out of order. Players do not wait for each other's subscribers.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import inspect
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from audio.track import Track

if TYPE_CHECKING:
    from audio.buffer import ObservedBuffer

log = logging.getLogger(__name__)

CLOSE_WAIT = 5.0  # seconds a closing outbox gives its pending events


class EndReason(enum.Enum):
    """Why a track left the buffer; ``may_start_next`` says whether the queue advances on its own.

    TIME_LIMIT: a live stream or a track of unknown length played to its cap. Neither loop mode
    plays it again, since that would only turn a stream without an end back into one.
    """

    FINISHED = "finished"
    SKIPPED = "skipped"
    STOPPED = "stopped"
    FAILED = "failed"
    REPLACED = "replaced"
    TIME_LIMIT = "time_limit"

    @property
    def may_start_next(self) -> bool:
        # STOPPED clears everything; REPLACED means the replacement is already starting.
        return self in (EndReason.FINISHED, EndReason.FAILED, EndReason.SKIPPED, EndReason.TIME_LIMIT)


class PlayLimitReached(Exception):
    """Not a failure: the ``error`` of a TIME_LIMIT end, so subscribers can say which cap it was."""

    def __init__(self, limit: float, *, live: bool) -> None:
        super().__init__(f"stopped at the {'live stream' if live else 'unknown length'} cap of {limit:g} s")
        self.limit = limit
        self.live = live


@dataclass(frozen=True, slots=True)
class PlayerEvent:
    """Every event names its player: subscribers read the rest of its state when they get it."""

    player: ObservedBuffer

    @property
    def guild_id(self) -> int:
        return self.player.guild_id


@dataclass(frozen=True, slots=True)
class TrackStarted(PlayerEvent):
    """A track began to play (not again after a restart at a position: that is the same start)."""

    track: Track


@dataclass(frozen=True, slots=True)
class TrackEnded(PlayerEvent):
    """``error`` is the failure for FAILED, a :class:`PlayLimitReached` for TIME_LIMIT, else None."""

    track: Track
    reason: EndReason
    error: Exception | None = None


@dataclass(frozen=True, slots=True)
class StateChanged(PlayerEvent):
    """Queue, current track, position, pause, loop mode or volume changed (or a checkpoint passed)."""


Subscriber = Callable[[PlayerEvent], Awaitable[None] | None]


class PlayerEvents:
    """The bus: who hears player events, in the order they subscribed.

    A bot has one, shared by its players; a player made without one gets a bus of its own.
    """

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []

    def subscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.append(subscriber)

    def unsubscribe(self, subscriber: Subscriber) -> None:
        with contextlib.suppress(ValueError):
            self._subscribers.remove(subscriber)

    @property
    def subscribers(self) -> tuple[Subscriber, ...]:
        return tuple(self._subscribers)

    def outbox(self, loop: asyncio.AbstractEventLoop, *, name: str) -> Outbox:
        return Outbox(self, loop, name=name)


class Outbox:
    """One publisher's ordered line onto the bus."""

    def __init__(self, bus: PlayerEvents, loop: asyncio.AbstractEventLoop, *, name: str) -> None:
        self.bus = bus
        self._loop = loop
        self._name = name
        self._pending: asyncio.Queue[tuple[PlayerEvent, tuple[Subscriber, ...]] | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    def emit(self, event: PlayerEvent) -> None:
        """Queue ``event`` for the subscribers there are now; never blocks, never raises."""
        subscribers = self.bus.subscribers
        if not subscribers or self._closed:
            return
        self._pending.put_nowait((event, subscribers))
        if self._task is None or self._task.done():
            self._task = self._loop.create_task(self._deliver(), name=f"events-{self._name}")

    async def close(self, timeout: float = CLOSE_WAIT) -> None:
        """Deliver what is pending (for at most ``timeout`` seconds) and take nothing new."""
        self._closed = True
        task = self._task
        if task is None:
            return
        self._pending.put_nowait(None)
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout=timeout)
        except TimeoutError:
            task.cancel()

    async def _deliver(self) -> None:
        while (item := await self._pending.get()) is not None:
            event, subscribers = item
            for subscriber in subscribers:
                try:
                    result = subscriber(event)
                    if inspect.isawaitable(result):
                        await result
                except Exception:
                    log.exception(
                        "%s: subscriber %r failed on %s", self._name, subscriber, type(event).__name__
                    )
