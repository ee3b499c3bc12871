"""The one way tracks join a guild's queue: `play`, a search pick, `playlist play` and the restore.

Every caller takes its arrival turn first, so none overtakes another (a `play` typed while the saved
queue is being restored queues behind it). Here: wait for the player (already connecting, connect
now, or none when the queue waits out of voice), wait for the turn, remember the text channel for
announcements, admit against the limits, enqueue (a direct file is measured once it plays), and
save before anyone is told.
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
from bot.admission import admit, admit_restored
from bot.arrival_order import Turn
from bot.late_duration import enqueue_then_measure

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
    note: str | None = None  # said before the reply: these are matches (of a refused or another site's track)


async def queue_for(
    bot: BrentBot,
    turn: Turn,
    *,
    guild: discord.Guild,
    voice_channel: VoiceLike | None,
    text_channel_id: int | None,
    requester_id: int | None,
    tracks: Sequence[Track],
    connecting: asyncio.Future[GuildPlayer] | None = None,
    start_at: float = 0.0,
    front: bool = False,
) -> Queued:
    """Queue ``tracks`` for ``requester_id``; the caller holds ``turn`` from when it arrived.

    ``voice_channel`` None queues without joining voice (nothing starts); ``requester_id`` None is
    a restored queue, admitted against the queue's room only (its members' tracks were admitted
    when they asked); ``start_at`` is where the first track starts if it starts now; ``front``
    puts the tracks ahead of the queue, in their order, whatever the queue mode (``playnext``,
    ``previous``), else the queue mode places them.
    """
    if connecting is not None:
        player = await connecting
    elif voice_channel is not None:
        player = await bot.voice_connector.connect(guild, voice_channel)
    else:
        player = bot.player_for(guild)
    await turn.wait()
    if text_channel_id is not None:
        bot.text_channels[guild.id] = text_channel_id
    limits = bot.limits_for(guild.id)
    if requester_id is None:
        admitted = admit_restored(tracks, queued=player.queue, limits=limits, guild_id=guild.id)
    else:
        admitted = admit(tracks, queued=player.queue, requester_id=requester_id, limits=limits)
    extractor = bot.extractor
    enqueued = await enqueue_then_measure(
        player, admitted, needs_measuring=extractor.needs_measuring, measure=extractor.measure,
        limits=limits, start_at=start_at, front=front,
    )  # fmt: skip
    from bot.persistence import persistence_of  # not at the top: the restorer in there queues through here

    saver = persistence_of(bot)
    saved = None if saver is None else await saver.saved(player)  # survives a kill -9
    return Queued(player, enqueued.tracks, enqueued.position, saved, enqueued.refusal)
