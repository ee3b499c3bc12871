"""Autoplay: when a server's queue runs dry, a related track it has not played lately is queued.

Related means the YouTube mix of the last track, a SoundCloud track's recommendations, or a search
for its artist (:mod:`audio.extractor.related`); "lately" is the server's last ``AUTOPLAY_AVOID``
plays. Nothing is queued when a member asked for something meanwhile, when a loop mode is on, or
when the bot is not in voice.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord

from audio.errors import BrentError
from audio.events import EndReason, PlayerEvent, TrackEnded
from audio.extractor.related import pick_related, related_query
from audio.loop_mode import LoopMode
from audio.track import Track
from bot.queueing import queue_for
from bot.text import describe

if TYPE_CHECKING:
    from bot.bot import BrentBot

log = logging.getLogger(__name__)

AUTOPLAY_AVOID = 20
SEARCH_HITS = 10  # a search for the artist: enough hits that one was not played lately
DRY_ENDS = (EndReason.FINISHED, EndReason.SKIPPED, EndReason.TIME_LIMIT)


class Autoplay:
    """A player event subscriber; the setting is the server's ``autoplay`` setting."""

    def __init__(self, bot: BrentBot) -> None:
        self._bot = bot

    async def __call__(self, event: PlayerEvent) -> None:
        if (
            isinstance(event, TrackEnded)
            and event.reason in DRY_ENDS
            and self._bot.guild_settings.get(event.guild_id).autoplay
        ):
            await self.after(event.guild_id, event.track)

    async def after(self, guild_id: int, ended: Track) -> None:
        bot = self._bot
        guild, player = bot.get_guild(guild_id), bot.players.get(guild_id)
        if guild is None or player is None or player.current is not None or player.queue:
            return
        if player.loop_mode is not LoopMode.OFF or player.voice is None:
            return
        recent = {e.track.page_url for e in (await bot.queue_memory.history.recent(guild_id))[:AUTOPLAY_AVOID]}
        query, site = related_query(ended), bot.guild_settings.get(guild_id).search_provider
        try:
            if bot.extractor.is_url(query):
                found = await bot.extractor.resolve_all(query, search_provider=site)
            else:
                found = await bot.extractor.search(query, SEARCH_HITS, search_provider=site)
        except BrentError as exc:
            log.info("guild %s: autoplay found nothing related: %s", guild_id, exc)
            return
        pick = pick_related(found, played=recent, after=ended)
        if pick is None:
            log.info("guild %s: autoplay found only tracks played lately", guild_id)
            return
        async with bot.arrival_order.turn(guild_id) as turn:
            await turn.wait()
            if player.current is not None or player.queue:
                return  # a member asked for something meanwhile
            queued = await queue_for(
                bot, turn, guild=guild, voice_channel=None, text_channel_id=None, requester_id=None, tracks=[pick]
            )
        channel = bot.get_channel(bot.text_channels.get(guild_id, 0))
        if queued.tracks and isinstance(channel, discord.abc.Messageable):
            await channel.send(f"Autoplay: {describe(queued.tracks[0])}, after {describe(ended)}.")
