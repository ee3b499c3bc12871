"""Where music comes from, per server: the default search site."""

from __future__ import annotations

from typing import TYPE_CHECKING

from discord.ext import commands

from audio.errors import ExtractionError
from audio.extractor.sites import PREFIXES, SEARCH_KEYS
from bot.permissions import require_dj
from bot.text import code_span

if TYPE_CHECKING:
    from bot.bot import BrentBot

Ctx = commands.Context["BrentBot"]


class SourcesCog(commands.Cog, name="Sources"):
    def __init__(self, bot: BrentBot) -> None:
        self.bot = bot

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
