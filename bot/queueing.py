"""The one way tracks join a guild's queue on a member's behalf: `play`, a search pick, `playlist play`.

Each step used to be written in each command, and only `play` waited for its arrival turn, so a
search pick could overtake a `play` typed before it. Here: wait for the player (already connecting,
or connect now), wait for the turn taken when the command arrived, remember the text channel for
announcements, admit against the limits, enqueue (a direct file is measured once it plays), and
save before the member is told.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import discord

from audio.errors import LimitReached
from audio.player import GuildPlayer
from audio.track import Track
from bot.admission import admit
from bot.arrival_order import Turn
from bot.late_duration import enqueue_then_measure
from bot.persistence import persistence_of

if TYPE_CHECKING:
    from bot.bot import BrentBot

VoiceLike = discord.VoiceChannel | discord.StageChannel


@dataclass(frozen=True, slots=True)
class Queued:
    """What a queueing reply needs."""

    player: GuildPlayer
    tracks: tuple[Track, ...]  # as they stand now: measured, over-cap ones gone
    position: int  # 0 when the first one started at once, else its place in the queue
    saved: bool | None  # None without a store; False when the save could not be confirmed in time
    refusal: LimitReached | None = None  # every track was over the length cap once measured


async def queue_for(
    bot: BrentBot,
    turn: Turn,
    *,
    guild: discord.Guild,
    voice_channel: VoiceLike,
    text_channel_id: int,
    requester_id: int,
    tracks: Sequence[Track],
    connecting: asyncio.Future[GuildPlayer] | None = None,
) -> Queued:
    """Queue ``tracks`` for ``requester_id``; the caller holds ``turn`` from when its command arrived."""
    if connecting is not None:
        player = await connecting
    else:
        player = await bot.voice_connector.connect(guild, voice_channel)
    await turn.wait()
    bot.text_channels[guild.id] = text_channel_id
    admitted = admit(tracks, queued=player.queue, requester_id=requester_id, limits=bot.limits)
    extractor = bot.extractor
    enqueued = await enqueue_then_measure(
        player, admitted, needs_measuring=extractor.needs_measuring, measure=extractor.measure, limits=bot.limits
    )
    persistence = persistence_of(bot)
    saved = None if persistence is None else await persistence.saved(player)  # survives a kill -9
    return Queued(player, enqueued.tracks, enqueued.position, saved, enqueued.refusal)
