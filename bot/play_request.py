"""A member's `play` (or `playnext`): look the words or link up while joining voice, then queue.

The lookup runs beside the voice handshake and other members' lookups; the queue still gets the
tracks in the order the commands came (the arrival turn is taken first), through ``queue_for``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import discord

from audio.player import GuildPlayer
from bot.checks import member_voice_channel
from bot.queueing import Queued, queue_for
from bot.text import describe

if TYPE_CHECKING:
    from bot.bot import BrentBot

log = logging.getLogger(__name__)


def _log_connect_failure(task: asyncio.Future[GuildPlayer]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.info("voice connection for a failed play did not complete: %s", task.exception())


async def look_up_and_queue(
    bot: BrentBot,
    *,
    guild: discord.Guild,
    author: discord.abc.User,
    text_channel_id: int,
    query: str,
    front: bool = False,
) -> Queued:
    """Resolve ``query`` for ``author`` and queue what it names (``front``: ahead of the queue)."""
    channel = member_voice_channel(author)
    async with bot.arrival_order.turn(guild.id) as turn:
        async with bot.extraction_slots.take(guild.id, author.id):
            connecting = asyncio.ensure_future(bot.voice_connector.connect(guild, channel))
            try:
                site = bot.queue_memory.settings.get(guild.id).search_site
                tracks = await bot.extractor.resolve_all(query, requester_id=author.id, site=site)
            except BaseException:
                # Cancelling a voice handshake half-way breaks discord.py's socket; let it finish
                # (the idle timer leaves later if nothing gets played) and keep its error quiet.
                connecting.add_done_callback(_log_connect_failure)
                raise
            await connecting
        queued = await queue_for(
            bot, turn, guild=guild, voice_channel=channel, text_channel_id=text_channel_id,
            requester_id=author.id, tracks=tracks, connecting=connecting, front=front,
        )  # fmt: skip
    if queued.refusal is not None:
        raise queued.refusal
    return queued


def queued_reply(queued: Queued) -> str | None:
    """What the member is told; None when the one track already ended while it was measured."""
    tracks, position, player = queued.tracks, queued.position, queued.player
    if len(tracks) > 1:
        where = " next" if position == 1 else ""
        return f"Queued {len(tracks)} tracks{where}, starting with {describe(tracks[0])}."
    if position == 0:
        current = player.current
        if current is None or current.page_url != tracks[0].page_url:
            return None  # the announcer said why if it failed
        return f"Playing {describe(tracks[0])}."
    return f"Queued {describe(tracks[0])} at #{position}."
