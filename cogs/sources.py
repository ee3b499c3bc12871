"""Where music comes from, per server: the default search site, lyrics, autoplay (a related track when the
queue runs dry), and a SoundCloud match for a track YouTube refuses once it is due to play (a refused
link is matched in `play` itself)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from discord.ext import commands

from audio.errors import ExtractionError, PlayerError
from audio.extractor.sites import PREFIXES, SEARCH_KEYS
from bot.admission import member_cooldown
from bot.autoplay import Autoplay
from bot.lyrics import excerpt, find_lyrics
from bot.permissions import require_dj
from bot.refused_tracks import RefusedTracks
from bot.text import MESSAGE_LIMIT, code_span, describe, safe_text

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

    @commands.command(name="lyrics", aliases=["ly"])
    @commands.guild_only()
    @commands.dynamic_cooldown(member_cooldown("search_cooldown"), commands.BucketType.member)
    async def lyrics(self, ctx: Ctx) -> None:
        """The current track's lyrics from LRCLIB, synced ones around where it is now. Example: `lyrics`"""
        assert ctx.guild is not None
        player = self.bot.players.get(ctx.guild.id)
        if player is None or player.current is None:
            raise PlayerError("Nothing is playing.")
        track = player.current
        found = await find_lyrics(self.bot.extractor, track)
        if found.instrumental and not found.synced and not found.plain:
            await ctx.send(f"{describe(track)} is instrumental, says LRCLIB.")
            return
        kind = "synced" if found.synced else "plain"
        head = f"Lyrics of **{safe_text(found.title, 100)}** by {safe_text(found.artist, 100)} (LRCLIB, {kind}):"
        lines = excerpt(found, player.position, MESSAGE_LIMIT - len(head) - 20, lambda text: safe_text(text, 300))
        await ctx.send("\n".join([head, *lines])[:MESSAGE_LIMIT])

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
