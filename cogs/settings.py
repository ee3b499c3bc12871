"""`settings`: show this server's settings or change one (Manage Server), and server block lists."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.setting_change import change_setting
from bot.setting_specs import SPECS, parse_setting
from bot.settings_view import settings_lines, shown_value
from bot.slash import hybrid_command
from bot.text import safe_text

if TYPE_CHECKING:
    from bot.bot import BrentBot

log = logging.getLogger(__name__)

Ctx = commands.Context["BrentBot"]
SETTING_CHOICES = [app_commands.Choice(name=name, value=name) for name in SPECS]


class SettingsCog(commands.Cog, name="Settings"):
    def __init__(self, bot: BrentBot) -> None:
        self.bot = bot

    @hybrid_command(name="settings", aliases=["set", "config"], usage="[name] [value]")
    @commands.guild_only()
    @app_commands.describe(name="The setting to change; leave out to see them all", value="The new value, or default")
    @app_commands.choices(name=SETTING_CHOICES)
    async def settings(self, ctx: Ctx, name: str | None = None, *, value: str | None = None) -> None:
        """Show this server's settings, or change one (Manage Server); `default` puts one back.

        Examples: `settings` · `settings prefix !` · `settings announce off` · `settings voice Music`
        """
        assert ctx.guild is not None
        book = self.bot.guild_settings
        if name is None:
            lines = settings_lines(book.get(ctx.guild.id), book.stored(ctx.guild.id), ctx.guild, self.bot.settings.dj_role)
            await ctx.send("\n".join(["**Settings of this server**", *lines])[:2000])
            return
        if not (isinstance(ctx.author, discord.Member) and ctx.author.guild_permissions.manage_guild):
            raise commands.MissingPermissions(["manage_guild"])
        spec, stored = parse_setting(name, value or "", ctx.guild, self.bot.settings)
        current = await change_setting(self.bot, ctx.guild, spec, stored)
        shown = shown_value(spec.name, current, ctx.guild, self.bot.settings.dj_role)
        await ctx.send(f"`{spec.name}` is now {shown}.")

    @hybrid_command(name="blockhere", aliases=["bh"], usage="<member>")
    @commands.guild_only()
    @commands.has_guild_permissions(manage_guild=True)
    @app_commands.describe(member="The member to block from music commands here")
    async def blockhere(self, ctx: Ctx, member: discord.Member) -> None:
        """Stop a member from using music commands in this server (Manage Server). Example: `blockhere @spammer`"""
        assert ctx.guild is not None
        if member.guild_permissions.manage_guild or member.bot:
            await ctx.send("Members with Manage Server (and bots) can't be blocked here.")
            return
        changed = await self.bot.guild_settings.set_blocked(self.bot.store, ctx.guild.id, member.id, True)
        name = safe_text(member.display_name, 100)
        await ctx.send(f"Blocked {name} from music commands here." if changed else f"{name} is already blocked here.")

    @hybrid_command(name="unblockhere", aliases=["ubh"], usage="<member>")
    @commands.guild_only()
    @commands.has_guild_permissions(manage_guild=True)
    @app_commands.describe(member="The member to unblock here")
    async def unblockhere(self, ctx: Ctx, member: discord.Member) -> None:
        """Let a member blocked in this server use music commands again (Manage Server). Example: `unblockhere @someone`"""
        assert ctx.guild is not None
        changed = await self.bot.guild_settings.set_blocked(self.bot.store, ctx.guild.id, member.id, False)
        name = safe_text(member.display_name, 100)
        await ctx.send(f"Unblocked {name} here." if changed else f"{name} is not blocked here.")


async def setup(bot: BrentBot) -> None:
    await bot.add_cog(SettingsCog(bot))
