"""Where music comes from, per server: lyrics, autoplay (a related track when the queue runs dry; the
server setting ``autoplay``, `autoplay` is its shortcut for DJs), and a SoundCloud match for a track
YouTube refuses once it is due to play (a refused link is matched in `play` itself). The search site
is the server setting ``search``."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from discord import app_commands
from discord.ext import commands

from audio.errors import PlayerError
from bot.admission import member_cooldown
from bot.autoplay import Autoplay
from bot.lyrics import excerpt, find_lyrics
from bot.permissions import require_dj
from bot.refused_tracks import RefusedTracks
from bot.setting_change import change_setting
from bot.setting_specs import parse_setting
from bot.slash import hybrid_command
from bot.text import MESSAGE_LIMIT, describe, safe_text

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

    @hybrid_command(name="lyrics", aliases=["ly"])
    @commands.guild_only()
    @commands.dynamic_cooldown(member_cooldown("search_cooldown"), commands.BucketType.member)
    async def lyrics(self, ctx: Ctx) -> None:
        """The current track's lyrics from LRCLIB, synced ones around where it is now. Example: `lyrics`"""
        assert ctx.guild is not None
        player = self.bot.players.get(ctx.guild.id)
        if player is None or player.current is None:
            raise PlayerError("Nothing is playing.")
        track = player.current
        await ctx.defer()  # LRCLIB may take longer than a slash command's 3 s
        found = await find_lyrics(self.bot.extractor, track)
        if found.instrumental and not found.synced and not found.plain:
            await ctx.send(f"{describe(track)} is instrumental, says LRCLIB.")
            return
        kind = "synced" if found.synced else "plain"
        head = f"Lyrics of **{safe_text(found.title, 100)}** by {safe_text(found.artist, 100)} (LRCLIB, {kind}):"
        lines = excerpt(found, player.position, MESSAGE_LIMIT - len(head) - 20, lambda text: safe_text(text, 300))
        await ctx.send("\n".join([head, *lines])[:MESSAGE_LIMIT])

    @hybrid_command(name="autoplay", aliases=["ap"], usage="[on|off]")
    @commands.guild_only()
    @app_commands.describe(state="on or off; leave out to see it now")
    @app_commands.choices(state=[app_commands.Choice(name=word, value=word) for word in ("on", "off")])
    async def autoplay(self, ctx: Ctx, state: str | None = None) -> None:
        """Show or set autoplay (DJ): when the queue runs dry, a related track the server has not played
        lately is queued. The same as `settings autoplay`. Examples: `autoplay` · `autoplay on`"""
        assert ctx.guild is not None
        if state is not None:
            spec, stored = parse_setting("autoplay", state, ctx.guild, self.bot.settings)
            require_dj(ctx.author, self.bot.dj_role(ctx.guild), "change autoplay")
            await change_setting(self.bot, ctx.guild, spec, stored)
        now = " now" if state is not None else ""
        await ctx.send(f"Autoplay is{now} {'on' if self.bot.guild_settings.get(ctx.guild.id).autoplay else 'off'}.")


async def setup(bot: BrentBot) -> None:
    await bot.add_cog(SourcesCog(bot))
