"""Looking at and rearranging what plays next."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import discord
from discord import app_commands
from discord.ext import commands

from audio.errors import QueueError
from audio.player import GuildPlayer
from audio.track import Track
from bot.converters import Position, PositionOrMember, QueuePosition
from bot.permissions import require_dj
from bot.queue_pages import QueuePageButton, queue_page
from bot.slash import hybrid_command
from bot.text import describe, safe_text

if TYPE_CHECKING:
    from bot.bot import BrentBot

Ctx = commands.Context["BrentBot"]


class QueueCog(commands.Cog, name="Queue", command_attrs={"ignore_extra": False}):
    def __init__(self, bot: BrentBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(QueuePageButton)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(QueuePageButton)

    def _player(self, ctx: Ctx) -> GuildPlayer:
        assert ctx.guild is not None
        return self.bot.controls.player(ctx.guild, ctx.author)

    async def _remember(self, ctx: Ctx, kind: str, before: tuple[Track, ...], player: GuildPlayer) -> None:
        """Keep the edit for `undo`."""
        await self.bot.queue_memory.undo.remember(
            player.guild_id, kind, before, tuple(player.queue), member_id=ctx.author.id
        )

    @hybrid_command(name="queue", aliases=["q", "list"], usage="[page]")
    @commands.guild_only()
    @app_commands.describe(page="Page number, 10 tracks a page")
    async def queue(self, ctx: Ctx, page: Annotated[int, Position] = 1) -> None:
        """List what is coming up, 10 per page. Examples: `queue` · `queue 2`"""
        assert ctx.guild is not None
        embed, pages = queue_page(self.bot, ctx.guild.id, page)
        await ctx.send(embed=embed, view=pages)

    @hybrid_command(name="remove", aliases=["rm", "delete"], usage="<n | @member>")
    @commands.guild_only()
    @app_commands.describe(target="The entry's number in the queue, or a member (all their entries)")
    async def remove(self, ctx: Ctx, target: Annotated[int | discord.Member, PositionOrMember]) -> None:
        """Remove entry n, or every entry of a member (others' entries need the DJ role).

        Examples: `remove 3` · `remove @alice`
        """
        assert ctx.guild is not None
        player = self._player(ctx)
        before = tuple(player.queue)
        dj_role = self.bot.dj_role(ctx.guild)
        if isinstance(target, discord.Member):
            if target.id != ctx.author.id:
                require_dj(ctx.author, dj_role, "remove other members' tracks")
            removed = player.queue.remove_where(lambda t: t.requester_id == target.id)
            if not removed:
                raise QueueError(f"{safe_text(target.display_name, 64)} has nothing in the queue.")
            reply = f"Removed {len(removed)} tracks of {safe_text(target.display_name, 64)}."
        else:
            entry = player.queue.get(target)
            if entry.requester_id != ctx.author.id:
                require_dj(ctx.author, dj_role, "remove other members' tracks")
            reply = f"Removed {describe(player.queue.remove(target))}."
        await self._remember(ctx, "remove", before, player)
        await ctx.send(reply)

    @hybrid_command(name="move", aliases=["mv"], usage="<from> <to>")
    @commands.guild_only()
    @app_commands.rename(source="from", target="to")
    @app_commands.describe(source="The entry's number now", target="The number it should get")
    async def move(
        self, ctx: Ctx, source: Annotated[int, QueuePosition], target: Annotated[int, QueuePosition]
    ) -> None:
        """Move an entry to another place in the queue (DJ). Example: `move 5 1`"""
        player = self._player(ctx)
        require_dj(ctx.author, self.bot.dj_role(ctx.guild), "reorder the queue")
        before = tuple(player.queue)
        track = player.queue.move(source, target)
        await self._remember(ctx, "move", before, player)
        await ctx.send(f"Moved {describe(track)} to #{target}.")

    @hybrid_command(name="shuffle", aliases=["sh", "mix"])
    @commands.guild_only()
    async def shuffle(self, ctx: Ctx) -> None:
        """Shuffle the queue (`undo` puts the order back). Example: `shuffle`"""
        assert ctx.guild is not None
        await ctx.send((await self.bot.controls.shuffle(ctx.guild, ctx.author)).text)

    @hybrid_command(name="clear", aliases=["cl", "empty"])
    @commands.guild_only()
    async def clear(self, ctx: Ctx) -> None:
        """Empty the queue; the current track keeps playing (DJ). Example: `clear`"""
        player = self._player(ctx)
        require_dj(ctx.author, self.bot.dj_role(ctx.guild), "clear the queue")
        before = tuple(player.queue)
        removed = player.queue.clear()
        await self._remember(ctx, "clear", before, player)
        await ctx.send(f"Cleared {removed} tracks." if removed else "The queue was already empty.")


async def setup(bot: BrentBot) -> None:
    await bot.add_cog(QueueCog(bot))
