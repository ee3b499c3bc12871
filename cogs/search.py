"""`search`: show the top results and queue the one the member picks."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from audio.track import Track
from bot.admission import member_cooldown
from bot.checks import member_voice_channel
from bot.queueing import queue_for
from bot.search_pick import PICK_TIMEOUT, Pick, PickOutcome, PickWaiter, parse_reply
from bot.slash import hybrid_command
from bot.text import describe, format_duration, safe_text
from bot.track_embeds import search_embed

if TYPE_CHECKING:
    from bot.bot import BrentBot

log = logging.getLogger(__name__)

Ctx = commands.Context["BrentBot"]
RESULTS = 5


class ResultMenu(discord.ui.View):
    """A select menu that only the member who searched may use."""

    def __init__(self, tracks: list[Track], author_id: int, waiter: PickWaiter, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self._author_id = author_id
        self._waiter = waiter
        options = [
            discord.SelectOption(
                label=safe_text(t.title, 100, markdown=False) or "untitled",
                description=f"{safe_text(t.uploader or '', 80, markdown=False)} · {format_duration(t.duration)}"[:100],
                value=str(i),
            )
            for i, t in enumerate(tracks)
        ]
        select: discord.ui.Select[ResultMenu] = discord.ui.Select(placeholder="Pick a track", options=options)
        select.callback = self._chosen  # type: ignore[method-assign]
        self._select = select
        self.add_item(select)

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        return interaction.user.id == self._author_id

    async def _chosen(self, interaction: discord.Interaction) -> None:
        self._waiter.offer(Pick(PickOutcome.CHOSEN, int(self._select.values[0])))
        await interaction.response.defer()


class SearchCog(commands.Cog, name="Search", command_attrs={"ignore_extra": False}):
    def __init__(self, bot: BrentBot) -> None:
        self.bot = bot
        self.pick_timeout = PICK_TIMEOUT

    @hybrid_command(name="search", aliases=["find", "sr"], usage="<words>")
    @commands.guild_only()
    @commands.max_concurrency(1, commands.BucketType.member)
    @commands.dynamic_cooldown(member_cooldown("search_cooldown"), commands.BucketType.member)
    @app_commands.describe(words="What to search for")
    async def search(self, ctx: Ctx, *, words: str) -> None:
        """Show the top 5 results; reply with a number (or use the menu) within 30 s, or `cancel`.

        Start with `sc` or `yt` to pick the site. Examples: `search lofi hip hop` · `search sc lofi`
        """
        assert ctx.guild is not None
        await ctx.defer()
        extractor = self.bot.extractor
        async with self.bot.extraction_slots.take(ctx.guild.id, ctx.author.id):
            tracks = await extractor.search(
                words,
                RESULTS,
                requester_id=ctx.author.id,
                search_provider=self.bot.guild_settings.get(ctx.guild.id).search_provider,
            )
            # Words give site results with lengths; a direct-file link is measured before it is shown.
            tracks = list(await asyncio.gather(*(extractor.measure(t) for t in tracks)))
        waiter = PickWaiter()
        menu = ResultMenu(tracks, ctx.author.id, waiter, self.pick_timeout)
        prompt = await ctx.send(embed=search_embed(tracks, self.pick_timeout), view=menu)

        def typed(message: discord.Message) -> bool:
            if message.author.id != ctx.author.id or message.channel.id != ctx.channel.id:
                return False
            pick = parse_reply(message.content, len(tracks))
            return pick is not None and waiter.offer(pick)

        listener = asyncio.ensure_future(self.bot.wait_for("message", check=typed, timeout=self.pick_timeout + 1))
        try:
            pick = await waiter.wait(self.pick_timeout)
        finally:
            listener.cancel()
            await asyncio.gather(listener, return_exceptions=True)
            menu.stop()
        await prompt.edit(view=None)

        if pick.outcome is not PickOutcome.CHOSEN or pick.index is None:
            await ctx.send("Search cancelled." if pick.outcome is PickOutcome.CANCELLED else "Search timed out.")
            return
        track = tracks[pick.index]
        channel = member_voice_channel(ctx.author)
        async with self.bot.arrival_order.turn(ctx.guild.id) as turn:  # the pick is when it arrives
            queued = await queue_for(
                self.bot, turn, guild=ctx.guild, voice_channel=channel, text_channel_id=ctx.channel.id,
                requester_id=ctx.author.id, tracks=[track],
            )
        if queued.refusal is not None:
            raise queued.refusal
        position = queued.position
        await ctx.send(f"Playing {describe(track)}." if position == 0 else f"Queued {describe(track)} at #{position}.")


async def setup(bot: BrentBot) -> None:
    await bot.add_cog(SearchCog(bot))
