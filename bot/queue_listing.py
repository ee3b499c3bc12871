"""The line under the queue listing: the queue mode and whose turn comes next."""

from __future__ import annotations

import discord

from audio.queue import TrackQueue
from audio.queue_order import QueueMode, turn_order
from bot.text import safe_text


def member_name(guild: discord.Guild, member_id: int | None) -> str:
    """A member's display name, safe to post; restored tracks may have no member."""
    member = guild.get_member(member_id) if member_id is not None else None
    if member is None:
        return "someone" if member_id is None else "a former member"
    return safe_text(member.display_name, 64)


def turn_line(guild: discord.Guild, queue: TrackQueue) -> str:
    """``Mode: fair (one track per member in turn). Next turn: alice, then bob, carol.``"""
    mode = queue.mode
    line = f"Mode: {mode.value} ({mode.description})."
    if mode is QueueMode.FIFO or not queue:
        return line
    names = [member_name(guild, member_id) for member_id in turn_order(list(queue))]
    then = f", then {', '.join(names[1:])}" if len(names) > 1 else ""
    return f"{line} Next turn: {names[0]}{then}."
