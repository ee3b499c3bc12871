"""Owner tools: blocking abusive members from the bot (kept in the store), and a health summary."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.command_sync import sync
from bot.slash import hybrid_command
from bot.store.settings_sql import EVERYWHERE
from bot.text import safe_text

if TYPE_CHECKING:
    from bot.bot import BrentBot

log = logging.getLogger(__name__)

Ctx = commands.Context["BrentBot"]


class AdminCog(commands.Cog, name="Admin", command_attrs={"ignore_extra": False}):
    def __init__(self, bot: BrentBot) -> None:
        self.bot = bot

    @hybrid_command(name="blockuser", aliases=["bu", "block"], usage="<member>")
    @commands.is_owner()
    @app_commands.describe(user="The member to block everywhere")
    async def blockuser(self, ctx: Ctx, user: discord.User) -> None:
        """Stop a member from using the bot anywhere (owner only). Example: `blockuser @spammer`"""
        if await self.bot.is_owner(user):
            await ctx.send("The owner can't be blocked.")
            return
        await self.bot.guild_settings.set_blocked(self.bot.store, EVERYWHERE, user.id, True)
        log.info("owner blocked user %s", user.id)
        await ctx.send(f"Blocked {safe_text(user.name, 100)}.")

    @hybrid_command(name="unblockuser", aliases=["ubu", "unblock"], usage="<member>")
    @commands.is_owner()
    @app_commands.describe(user="The member to unblock")
    async def unblockuser(self, ctx: Ctx, user: discord.User) -> None:
        """Let a blocked member use the bot again (owner only). Example: `unblockuser @someone`"""
        if user.id not in self.bot.blocked_users:
            await ctx.send(f"{safe_text(user.name, 100)} is not blocked.")
            return
        await self.bot.guild_settings.set_blocked(self.bot.store, EVERYWHERE, user.id, False)
        log.info("owner unblocked user %s", user.id)
        await ctx.send(f"Unblocked {safe_text(user.name, 100)}.")

    @hybrid_command(name="synccommands", aliases=["sync"])
    @commands.is_owner()
    async def synccommands(self, ctx: Ctx) -> None:
        """Register the slash commands with Discord now (owner only); start-ups do it only after a change. Example: `sync`"""
        await ctx.defer()
        count = await sync(self.bot.tree, self.bot.store)
        await ctx.send(f"Registered {count} slash commands.")

    @hybrid_command(name="status", aliases=["stat", "health"])
    async def status(self, ctx: Ctx) -> None:
        """How the bot is doing: voice connections, players, gateway latency. Example: `status`"""
        playing = sum(1 for p in self.bot.players.values() if p.current is not None)
        latency = self.bot.latency
        shown = f"{latency * 1000:.0f} ms" if latency == latency and latency != float("inf") else "unknown"
        await ctx.send(
            f"Servers: {len(self.bot.guilds)} · voice connections: {len(self.bot.voice_clients)} · "
            f"playing: {playing} · gateway latency: {shown}"
        )


async def setup(bot: BrentBot) -> None:
    await bot.add_cog(AdminCog(bot))
