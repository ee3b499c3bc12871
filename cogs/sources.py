"""Where music comes from, per server: the default search site, and a SoundCloud match for a track
YouTube refuses once it is due to play (a refused link is matched in `play` itself)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord.ext import commands

from audio.errors import BrentError, ExtractionError
from audio.events import EndReason, PlayerEvent, TrackEnded
from audio.extractor.sites import PREFIXES, SEARCH_KEYS
from audio.extractor.stand_in import refused_by_youtube, soundcloud_match
from audio.track import Provider, Track
from bot.permissions import require_dj
from bot.queueing import queue_for
from bot.text import code_span, describe

if TYPE_CHECKING:
    from bot.bot import BrentBot

log = logging.getLogger(__name__)

Ctx = commands.Context["BrentBot"]


class SourcesCog(commands.Cog, name="Sources"):
    def __init__(self, bot: BrentBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.player_events.subscribe(self._on_event)

    async def cog_unload(self) -> None:
        self.bot.player_events.unsubscribe(self._on_event)

    async def _on_event(self, event: PlayerEvent) -> None:
        if (
            isinstance(event, TrackEnded)
            and event.reason is EndReason.FAILED
            and event.track.provider is Provider.YOUTUBE
            and refused_by_youtube(event.error)
        ):
            await self._stand_in(event.guild_id, event.track)

    async def _stand_in(self, guild_id: int, refused: Track) -> None:
        """Queue the SoundCloud match of ``refused`` next, and say so where music was asked for."""
        guild = self.bot.get_guild(guild_id)
        if guild is None:
            return
        try:
            match = await soundcloud_match(self.bot.extractor, refused.title, refused.uploader, refused.requester_id)
            async with self.bot.arrival_order.turn(guild_id) as turn:
                queued = await queue_for(
                    self.bot, turn, guild=guild, voice_channel=None, text_channel_id=None,
                    requester_id=refused.requester_id, tracks=[match], front=True,
                )  # fmt: skip
        except BrentError as exc:
            log.info("guild %s: no SoundCloud match for a refused YouTube track: %s", guild_id, exc)
            return
        channel = self.bot.get_channel(self.bot.text_channels.get(guild_id, 0))
        if queued.tracks and isinstance(channel, discord.abc.Messageable):
            when = "Playing" if queued.position == 0 else "Next up:"
            await channel.send(f"YouTube refused {describe(refused)}; a match from SoundCloud instead. {when} {describe(queued.tracks[0])}.")

    @commands.command(name="searchsite", aliases=["ss", "site"], usage="[youtube|soundcloud]")
    @commands.guild_only()
    async def searchsite(self, ctx: Ctx, site: str | None = None) -> None:
        """Show or set the site `play` and `search` look words up on (DJ); `sc:` or `yt:` before the
        words picks one for a single search. Examples: `searchsite` · `searchsite soundcloud`"""
        assert ctx.guild is not None
        book = self.bot.queue_memory.settings
        if site is None:
            await ctx.send(f"Words are searched on {book.get(ctx.guild.id).search_site}.")
            return
        chosen = PREFIXES.get(site.strip().casefold())
        if chosen is None or chosen not in SEARCH_KEYS:
            raise ExtractionError(f"There is no search site {code_span(site, 20)}. Pick youtube or soundcloud.")
        require_dj(ctx.author, self.bot.settings.dj_role, "change the search site")
        await book.change(ctx.guild.id, search_site=chosen)
        await ctx.send(f"Words are now searched on {chosen}.")


async def setup(bot: BrentBot) -> None:
    await bot.add_cog(SourcesCog(bot))
