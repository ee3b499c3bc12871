"""`filter`: show, set and clear the audio effects of the guild's player."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from discord import app_commands
from discord.ext import commands

from audio.filters import (
    BASS_LEVELS,
    EQ_PRESETS,
    FILTER_LIST,
    NO_FILTERS,
    PITCH_MAX,
    PITCH_MIN,
    SPEED_MAX,
    SPEED_MIN,
    Filters,
)
from bot.checks import require_listener
from bot.permissions import require_dj
from bot.slash import hybrid_command

if TYPE_CHECKING:
    from bot.bot import BrentBot

log = logging.getLogger(__name__)

Ctx = commands.Context["BrentBot"]

CLEAR_WORDS = frozenset({"off", "clear", "reset", "none"})
NAME_CHOICES = [app_commands.Choice(name=n, value=n) for n in (*FILTER_LIST, "off")]
MENU = (
    f"`bass [1-{BASS_LEVELS}]` · `nightcore` · `vaporwave` · `speed <{SPEED_MIN}-{SPEED_MAX}>` · "
    f"`pitch <{PITCH_MIN}..+{PITCH_MAX}>` · `eq <{'|'.join(EQ_PRESETS)}>` · `karaoke` · `8d` · "
    "add `off` to turn one off, or `filter off` for all"
)


def describe_filters(filters: Filters) -> str:
    labels = filters.labels()
    return ", ".join(labels) if labels else "none"


class FiltersCog(commands.Cog, name="Filters"):
    def __init__(self, bot: BrentBot) -> None:
        self.bot = bot

    @hybrid_command(name="filter", aliases=["filters", "fx", "effects"], usage="[name [value] | off]")
    @app_commands.choices(name=NAME_CHOICES)
    @app_commands.describe(
        name="bass, nightcore, vaporwave, speed, pitch, eq, karaoke, 8d, or off for all",
        value="A level, a number or a preset; off turns that one off",
    )
    @commands.guild_only()
    async def filter(self, ctx: Ctx, name: str | None = None, value: str | None = None) -> None:
        """Show, set or clear audio effects: bass boost, nightcore, vaporwave, speed, pitch, equalizer presets, karaoke, 8D.

        Changes are heard within half a second, without a gap, and stay for the next tracks.
        Examples: `filter` · `filter bass 4` · `filter speed 1.25` · `filter eq rock` · `filter nightcore off` · `filter off`
        """
        assert ctx.guild is not None
        if name is None:
            player = self.bot.players.get(ctx.guild.id)
            current = player.filters if player is not None else NO_FILTERS
            await ctx.send(f"Filters on: {describe_filters(current)}.\nFilters: {MENU}")
            return
        require_listener(ctx.author, ctx.guild)
        require_dj(ctx.author, self.bot.dj_role(ctx.guild), "change the filters")
        player = self.bot.player_for(ctx.guild)
        if name.strip().lower() in CLEAR_WORDS and value is None:
            wanted = NO_FILTERS
        else:
            wanted = player.filters.with_setting(name, value)  # FilterError names what fits
        now = await player.set_filters(wanted)
        later = "" if now or player.current is None else " They start with the next track."
        await ctx.send(f"Filters on: {describe_filters(player.filters)}.{later}")


async def setup(bot: BrentBot) -> None:
    await bot.add_cog(FiltersCog(bot))
