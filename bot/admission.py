"""The limits a public server needs before a track is let into the queue.

Every refusal names the limit it hit, so members know what to change. Limits of 0 or None mean
"no limit".
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from discord.ext import commands

from audio.errors import LimitReached
from audio.track import Track
from bot.text import format_duration

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Limits:
    """The admission caps, from Settings; None is no cap (the defaults live in Settings only)."""

    max_queue_length: int | None = None
    max_user_tracks: int | None = None
    max_track_duration: float | None = None


def admit(
    tracks: Sequence[Track], *, queued: Iterable[Track], requester_id: int, limits: Limits
) -> list[Track]:
    """The tracks that may be queued. Too-long tracks of a playlist are dropped; a single one is refused."""
    allowed = [t for t in tracks if not too_long(t, limits)]
    if tracks and not allowed:
        raise too_long_refusal(limits)
    queued = list(queued)
    if limits.max_queue_length:
        room = limits.max_queue_length - len(queued)
        if room <= 0:
            raise LimitReached(f"The queue is full ({limits.max_queue_length} tracks).")
        allowed = allowed[:room]
    if limits.max_user_tracks:
        mine = sum(1 for t in queued if t.requester_id == requester_id)
        room = limits.max_user_tracks - mine
        if room <= 0:
            raise LimitReached(f"You already have {mine} tracks queued (the limit is {limits.max_user_tracks}).")
        allowed = allowed[:room]
    return allowed


def admit_restored(tracks: Sequence[Track], *, queued: Iterable[Track], limits: Limits, guild_id: int) -> list[Track]:
    """A saved queue coming back: as much of it as the queue has room for, never a refusal."""
    if not limits.max_queue_length:
        return list(tracks)
    room = max(0, limits.max_queue_length - len(list(queued)))
    if len(tracks) > room:
        log.warning("guild %s: %d saved tracks, the queue holds %d more; the rest are dropped",
                    guild_id, len(tracks), room)  # fmt: skip
    return list(tracks[:room])


def too_long(track: Track, limits: Limits) -> bool:
    """Over the one-track length cap; a track of unknown length (live, not measured yet) is not."""
    cap = limits.max_track_duration
    return bool(cap) and cap is not None and track.duration is not None and track.duration > cap


def too_long_refusal(limits: Limits) -> LimitReached:
    """What a member is told when their one track is over the cap, at admission or once measured."""
    cap = limits.max_track_duration
    return LimitReached(f"That is longer than the {format_duration(cap)} limit for one track.")


PER_MEMBER_LOOKUPS = 1
MEMBER_WAITING = 2  # a member's lookups past the running ones wait their turn, up to this many
MSG_MEMBER_BUSY = "You already have lookups running and waiting; wait for them to finish."


class _MemberTurns:
    """One member's running lookups and the ones waiting for a turn, first come first served."""

    def __init__(self) -> None:
        self.running = 0
        self.waiting: deque[asyncio.Future[None]] = deque()

    def idle(self) -> bool:
        return not self.running and not self.waiting


class ExtractionSlots:
    """Caps how many lookups one guild, and one member, may run at once.

    Lookup workers are few and a hostile link can hold one until its deadline, so one server must
    not take them all (``per_guild``), and one member must not take their whole server's share
    (``per_member``, counted across every server the member is in). A member's further lookups
    wait their turn instead of being refused (two ``play``s sent at once both queue, in order),
    and take a guild slot only when their turn comes; past ``member_waiting`` they are refused.
    """

    def __init__(
        self, per_guild: int, per_member: int = PER_MEMBER_LOOKUPS, member_waiting: int = MEMBER_WAITING
    ) -> None:
        self._per_guild = max(1, per_guild)
        self._per_member = max(1, per_member)
        self._member_waiting = max(0, member_waiting)
        self._busy: dict[int, int] = {}
        self._members: dict[int, _MemberTurns] = {}

    @asynccontextmanager
    async def take(self, guild_id: int, member_id: int) -> AsyncIterator[None]:
        """Hold a member turn, then a guild slot, for the block; LimitReached when either is out."""
        await self._member_turn(member_id)
        try:
            busy = self._busy.get(guild_id, 0)
            if busy >= self._per_guild:
                raise LimitReached(
                    f"This server already has {busy} lookups running (the limit is {self._per_guild}); "
                    "try again shortly."
                )
            self._busy[guild_id] = busy + 1
            try:
                yield
            finally:
                _decrement(self._busy, guild_id)
        finally:
            self._end_member_turn(member_id)

    async def _member_turn(self, member_id: int) -> None:
        turns = self._members.setdefault(member_id, _MemberTurns())
        if turns.running < self._per_member and not turns.waiting:
            turns.running += 1
            return
        if len(turns.waiting) >= self._member_waiting:
            raise LimitReached(MSG_MEMBER_BUSY)
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        turns.waiting.append(turn)
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self._end_member_turn(member_id)  # granted as the caller gave up: pass it on
            else:
                turns.waiting.remove(turn)
                if turns.idle():
                    del self._members[member_id]
            raise

    def _end_member_turn(self, member_id: int) -> None:
        turns = self._members[member_id]
        while turns.waiting:
            turn = turns.waiting.popleft()
            if not turn.done():
                turn.set_result(None)  # the running count passes to the next waiter
                return
        turns.running -= 1
        if turns.idle():
            del self._members[member_id]


def _decrement(counts: dict[int, int], key: int) -> None:
    """One fewer for ``key``; a key at zero is dropped, so idle guilds and members cost nothing."""
    left = counts[key] - 1
    if left:
        counts[key] = left
    else:
        del counts[key]


def member_cooldown(setting: str) -> Callable[[commands.Context[Any]], commands.Cooldown | None]:
    """A discord.py cooldown factory reading ``uses/seconds`` from the named setting at call time."""

    def factory(ctx: commands.Context[Any]) -> commands.Cooldown | None:
        rate, per = getattr(ctx.bot.settings, setting)
        return commands.Cooldown(rate, per)

    return factory
