"""The limits a public server needs before a track is let into the queue.

Every refusal names the limit it hit, so members know what to change. Limits of 0 or None mean
"no limit".
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from discord.ext import commands

from audio.errors import LimitReached
from audio.track import Track
from bot.text import format_duration


@dataclass(frozen=True, slots=True)
class Limits:
    max_queue_length: int | None = 500
    max_user_tracks: int | None = 50
    max_track_duration: float | None = 3 * 3600.0
    extractions_per_guild: int = 2


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


def too_long(track: Track, limits: Limits) -> bool:
    """Over the one-track length cap; a track of unknown length (live, not measured yet) is not."""
    cap = limits.max_track_duration
    return bool(cap) and cap is not None and track.duration is not None and track.duration > cap


def too_long_refusal(limits: Limits) -> LimitReached:
    """What a member is told when their one track is over the cap, at admission or once measured."""
    cap = limits.max_track_duration
    return LimitReached(f"That is longer than the {format_duration(cap)} limit for one track.")


PER_MEMBER_LOOKUPS = 1
MSG_MEMBER_BUSY = "You already have a lookup running; wait for it to finish."


class ExtractionSlots:
    """Caps how many lookups one guild, and one member, may run at once.

    Lookup workers are few and a hostile link can hold one until its deadline, so one server must
    not take them all (``per_guild``), and one member must not take their whole server's share
    (``per_member``, counted across every server the member is in).
    """

    def __init__(self, per_guild: int, per_member: int = PER_MEMBER_LOOKUPS) -> None:
        self._per_guild = max(1, per_guild)
        self._per_member = max(1, per_member)
        self._busy: dict[int, int] = {}
        self._busy_members: dict[int, int] = {}

    @asynccontextmanager
    async def take(self, guild_id: int, member_id: int) -> AsyncIterator[None]:
        """Hold a guild slot and a member slot for the block; LimitReached when either is taken."""
        if self._busy_members.get(member_id, 0) >= self._per_member:
            raise LimitReached(MSG_MEMBER_BUSY)
        busy = self._busy.get(guild_id, 0)
        if busy >= self._per_guild:
            raise LimitReached(
                f"This server already has {busy} lookups running (the limit is {self._per_guild}); try again shortly."
            )
        self._busy[guild_id] = busy + 1
        self._busy_members[member_id] = self._busy_members.get(member_id, 0) + 1
        try:
            yield
        finally:
            _decrement(self._busy, guild_id)
            _decrement(self._busy_members, member_id)


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
