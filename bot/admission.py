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


class ExtractionSlots:
    """Caps how many lookups one guild may run at once, so one server cannot hog yt-dlp."""

    def __init__(self, per_guild: int) -> None:
        self._per_guild = max(1, per_guild)
        self._busy: dict[int, int] = {}

    @asynccontextmanager
    async def take(self, guild_id: int) -> AsyncIterator[None]:
        busy = self._busy.get(guild_id, 0)
        if busy >= self._per_guild:
            raise LimitReached(
                f"This server already has {busy} lookups running (the limit is {self._per_guild}); try again shortly."
            )
        self._busy[guild_id] = busy + 1
        try:
            yield
        finally:
            left = self._busy[guild_id] - 1
            if left:
                self._busy[guild_id] = left
            else:
                del self._busy[guild_id]


def member_cooldown(setting: str) -> Callable[[commands.Context[Any]], commands.Cooldown | None]:
    """A discord.py cooldown factory reading ``uses/seconds`` from the named setting at call time."""

    def factory(ctx: commands.Context[Any]) -> commands.Cooldown | None:
        rate, per = getattr(ctx.bot.settings, setting)
        return commands.Cooldown(rate, per)

    return factory
