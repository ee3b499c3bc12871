"""A YouTube track refused when it is due to play (bot check, age, region): its SoundCloud match is
queued next and the channel is told it is a match. A refused link is matched in `play` itself
(bot/play_request.py); this covers search hits, playlist entries, restored and history tracks."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord

from audio.errors import BrentError
from audio.events import EndReason, PlayerEvent, TrackEnded
from audio.extractor.stand_in import refused_by_youtube, soundcloud_match
from audio.track import Provider, Track
from bot.queueing import queue_for
from bot.text import describe

if TYPE_CHECKING:
    from bot.bot import BrentBot

log = logging.getLogger(__name__)


class RefusedTracks:
    """A player event subscriber."""

    def __init__(self, bot: BrentBot) -> None:
        self._bot = bot

    async def __call__(self, event: PlayerEvent) -> None:
        if (
            isinstance(event, TrackEnded)
            and event.reason is EndReason.FAILED
            and event.track.provider is Provider.YOUTUBE
            and refused_by_youtube(event.error)
        ):
            await self.stand_in(event.guild_id, event.track)

    async def stand_in(self, guild_id: int, refused: Track) -> None:
        bot = self._bot
        guild = bot.get_guild(guild_id)
        if guild is None:
            return
        try:
            match = await soundcloud_match(bot.extractor, refused.title, refused.uploader, refused.requester_id)
            async with bot.arrival_order.turn(guild_id) as turn:
                queued = await queue_for(
                    bot, turn, guild=guild, voice_channel=None, text_channel_id=None,
                    requester_id=refused.requester_id, tracks=[match], front=True,
                )  # fmt: skip
        except BrentError as exc:
            log.info("guild %s: no SoundCloud match for a refused YouTube track: %s", guild_id, exc)
            return
        channel = bot.get_channel(bot.text_channels.get(guild_id, 0))
        if queued.tracks and isinstance(channel, discord.abc.Messageable):
            when = "Playing" if queued.position == 0 else "Next up:"
            await channel.send(
                f"YouTube refused {describe(refused)}; a match from SoundCloud instead. "
                f"{when} {describe(queued.tracks[0])}."
            )
