"""Looking at and rearranging what plays next."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import discord
from discord.ext import commands

from audio.errors import QueueError
from audio.player import GuildPlayer
from audio.track import Track
from bot.checks import require_listener
from bot.converters import Position, PositionOrMember
from bot.permissions import require_dj
from bot.queue_listing import turn_line
from bot.text import MESSAGE_LIMIT, describe, format_duration, safe_text

if TYPE_CHECKING:
    from bot.bot import BrentBot

Ctx = commands.Context["BrentBot"]


class QueueCog(commands.Cog, name="Queue"):
    def __init__(self, bot: BrentBot) -> None:
        self.bot = bot

    def _player(self, ctx: Ctx) -> GuildPlayer:
        assert ctx.guild is not None
        require_listener(ctx.author, ctx.guild)
        return self.bot.player_for(ctx.guild)

    async def _remember(self, ctx: Ctx, kind: str, before: tuple[Track, ...], player: GuildPlayer) -> None:
        """Keep the edit for `undo`."""
        await self.bot.queue_memory.undo.remember(
            player.guild_id, kind, before, tuple(player.queue), member_id=ctx.author.id
        )

    @commands.command(name="queue", aliases=["q", "list"], usage="[page]")
    @commands.guild_only()
    async def queue(self, ctx: Ctx, page: Annotated[int, Position] = 1) -> None:
        """List what is coming up, 10 per page. Examples: `queue` · `queue 2`"""
        assert ctx.guild is not None
        player = self.bot.players.get(ctx.guild.id)
        lines: list[str] = []
        if player is not None and player.current is not None:
            lines.append(f"Now: {describe(player.current)}")
        if player is None or len(player.queue) == 0:
            lines.append("The queue is empty.")
            await ctx.send("\n".join(lines))
            return
        listing = player.queue.page(page)
        total = sum(t.duration or 0.0 for t in player.queue)
        lines.append(
            f"Up next ({listing.total} tracks, {format_duration(total)}), "
            f"page {listing.number}/{listing.pages}:"
        )
        for offset, track in enumerate(listing.tracks):
            lines.append(f"`{listing.start + offset}.` {describe(track)}")
        lines.append(turn_line(ctx.guild, player.queue))
        await ctx.send("\n".join(lines)[:MESSAGE_LIMIT])

    @commands.command(name="remove", aliases=["rm", "delete"], usage="<n | @member>")
    @commands.guild_only()
    async def remove(self, ctx: Ctx, target: Annotated[int | discord.Member, PositionOrMember]) -> None:
        """Remove entry n, or every entry of a member (others' entries need the DJ role).

        Examples: `remove 3` · `remove @alice`
        """
        assert ctx.guild is not None
        player = self._player(ctx)
        before = tuple(player.queue)
        if isinstance(target, discord.Member):
            if target.id != ctx.author.id:
                require_dj(ctx.author, self.bot.settings.dj_role, "remove other members' tracks")
            removed = player.queue.remove_where(lambda t: t.requester_id == target.id)
            if not removed:
                raise QueueError(f"{safe_text(target.display_name, 64)} has nothing in the queue.")
            reply = f"Removed {len(removed)} tracks of {safe_text(target.display_name, 64)}."
        else:
            entry = player.queue.get(target)
            if entry.requester_id != ctx.author.id:
                require_dj(ctx.author, self.bot.settings.dj_role, "remove other members' tracks")
            reply = f"Removed {describe(player.queue.remove(target))}."
        await self._remember(ctx, "remove", before, player)
        await ctx.send(reply)

    @commands.command(name="move", aliases=["mv"], usage="<from> <to>")
    @commands.guild_only()
    async def move(self, ctx: Ctx, source: Annotated[int, Position], target: Annotated[int, Position]) -> None:
        """Move an entry to another place in the queue (DJ). Example: `move 5 1`"""
        player = self._player(ctx)
        require_dj(ctx.author, self.bot.settings.dj_role, "reorder the queue")
        before = tuple(player.queue)
        track = player.queue.move(source, target)
        await self._remember(ctx, "move", before, player)
        await ctx.send(f"Moved {describe(track)} to #{target}.")

    @commands.command(name="shuffle", aliases=["sh", "mix"])
    @commands.guild_only()
    async def shuffle(self, ctx: Ctx) -> None:
        """Shuffle the queue. Example: `shuffle`"""
        player = self._player(ctx)
        if len(player.queue) < 2:
            raise QueueError("There is nothing to shuffle.")
        before = tuple(player.queue)
        player.queue.shuffle()
        await self._remember(ctx, "shuffle", before, player)
        await ctx.send(f"Shuffled {len(player.queue)} tracks.")

    @commands.command(name="clear", aliases=["cl", "empty"])
    @commands.guild_only()
    async def clear(self, ctx: Ctx) -> None:
        """Empty the queue; the current track keeps playing (DJ). Example: `clear`"""
        player = self._player(ctx)
        require_dj(ctx.author, self.bot.settings.dj_role, "clear the queue")
        before = tuple(player.queue)
        removed = player.queue.clear()
        await self._remember(ctx, "clear", before, player)
        await ctx.send(f"Cleared {removed} tracks." if removed else "The queue was already empty.")


async def setup(bot: BrentBot) -> None:
    await bot.add_cog(QueueCog(bot))
