"""Where music comes from, per server: the default search site, autoplay (a related track when the
queue runs dry), and a SoundCloud match for a track YouTube refuses once it is due to play (a refused
link is matched in `play` itself)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from discord.ext import commands

from audio.errors import ExtractionError
from audio.extractor.sites import PREFIXES, SEARCH_KEYS
from bot.autoplay import Autoplay
from bot.permissions import require_dj
from bot.refused_tracks import RefusedTracks
from bot.text import code_span

if TYPE_CHECKING:
    from bot.bot import BrentBot

log = logging.getLogger(__name__)

Ctx = commands.Context["BrentBot"]


class SourcesCog(commands.Cog, name="Sources"):
    def __init__(self, bot: BrentBot) -> None:
        self.bot = bot
        self._subscribers = (RefusedTracks(bot), Autoplay(bot))

    async def cog_load(self) -> None:
        for subscriber in self._subscribers:
            self.bot.player_events.subscribe(subscriber)

    async def cog_unload(self) -> None:
        for subscriber in self._subscribers:
            self.bot.player_events.unsubscribe(subscriber)

    @commands.command(name="autoplay", aliases=["ap"], usage="[on|off]")
    @commands.guild_only()
    async def autoplay(self, ctx: Ctx, state: str | None = None) -> None:
        """Show or set autoplay (DJ): when the queue runs dry, a related track the server has not played
        lately is queued. Examples: `autoplay` · `autoplay on`"""
        assert ctx.guild is not None
        book = self.bot.queue_memory.settings
        if state is None:
            await ctx.send(f"Autoplay is {'on' if book.get(ctx.guild.id).autoplay else 'off'}.")
            return
        wanted = {"on": True, "off": False, "yes": True, "no": False}.get(state.strip().casefold())
        if wanted is None:
            raise ExtractionError(f"Autoplay is {code_span(state, 20)}? Say `autoplay on` or `autoplay off`.")
        require_dj(ctx.author, self.bot.settings.dj_role, "change autoplay")
        await book.change(ctx.guild.id, autoplay=wanted)
        await ctx.send(f"Autoplay is now {'on' if wanted else 'off'}.")

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
