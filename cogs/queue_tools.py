"""More ways to steer the queue: playnext, skipto, previous, replay, dedupe, undo, history, queuemode.

Also records what each guild played (a player event subscriber; a track counts once it leaves the
player, unless it failed) for `history`, `previous`, autoplay and `play` suggestions. The queue mode
is the server setting ``queuemode``; `queuemode` is its shortcut for DJs.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Annotated

import discord
from discord import app_commands
from discord.ext import commands

from audio.errors import PlayerError, QueueError
from audio.events import EndReason, PlayerEvent, TrackEnded
from audio.player import GuildPlayer
from audio.queue_order import QueueMode
from audio.track import Track
from bot.admission import member_cooldown
from bot.autocomplete import play_suggestions
from bot.checks import require_listener
from bot.converters import Position, QueuePosition
from bot.permissions import require_dj
from bot.play_request import look_up_and_queue, queued_reply
from bot.queue_listing import member_name
from bot.queueing import queue_for
from bot.setting_change import change_setting
from bot.setting_specs import parse_setting
from bot.slash import hybrid_command
from bot.text import MESSAGE_LIMIT, describe
from bot.undo import undone

if TYPE_CHECKING:
    from bot.bot import BrentBot

Ctx = commands.Context["BrentBot"]
HISTORY_PAGE = 10
MODE_CHOICES = [
    app_commands.Choice(name=f"{mode} ({mode.description})", value=mode.value) for mode in QueueMode
]


def _require_own_or_dj(bot: BrentBot, ctx: Ctx, tracks: list[Track], action: str) -> None:
    """Changing only your own tracks is fine; anyone else's needs the DJ role."""
    if any(track.requester_id != ctx.author.id for track in tracks):
        require_dj(ctx.author, bot.dj_role(ctx.guild), action)


class QueueToolsCog(commands.Cog, name="Queue tools"):
    def __init__(self, bot: BrentBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.player_events.subscribe(self._record)

    async def cog_unload(self) -> None:
        self.bot.player_events.unsubscribe(self._record)

    async def _record(self, event: PlayerEvent) -> None:
        # At its end the track is as measured (a direct file's length comes after it starts).
        if isinstance(event, TrackEnded) and event.reason is not EndReason.FAILED:
            await self.bot.queue_memory.history.record(event.guild_id, event.track)

    @commands.Cog.listener()
    async def on_guild_remove(self, guild: discord.Guild) -> None:
        await self.bot.queue_memory.forget(guild.id)

    def _player(self, ctx: Ctx) -> GuildPlayer:
        assert ctx.guild is not None
        return self.bot.controls.player(ctx.guild, ctx.author)

    @hybrid_command(name="playnext", aliases=["pn"], usage="<url or words>")
    @commands.guild_only()
    @commands.dynamic_cooldown(member_cooldown("play_cooldown"), commands.BucketType.member)
    @app_commands.describe(query="A link, or words to search for")
    @app_commands.autocomplete(query=play_suggestions)
    async def playnext(self, ctx: Ctx, *, query: str) -> None:
        """Like `play`, but ahead of the queue (ahead of others' tracks needs the DJ role).

        Example: `playnext daft punk one more time`
        """
        assert ctx.guild is not None
        await ctx.defer()  # a slash command gets 3 s to answer; a lookup may take longer
        player = self.bot.players.get(ctx.guild.id)
        if player is not None:
            _require_own_or_dj(self.bot, ctx, list(player.queue), "put tracks ahead of others'")
        queued = await look_up_and_queue(
            self.bot, guild=ctx.guild, author=ctx.author, text_channel_id=ctx.channel.id, query=query, front=True
        )
        if (reply := queued_reply(queued)) is not None:
            await ctx.send(reply)

    @hybrid_command(name="skipto", aliases=["jump", "sto"], usage="<n>")
    @commands.guild_only()
    @app_commands.describe(position="The number of the entry to play now")
    async def skipto(self, ctx: Ctx, position: Annotated[int, QueuePosition]) -> None:
        """Skip to entry n: the current track and those before n go (others' need the DJ role).

        Example: `skipto 4`
        """
        assert ctx.guild is not None
        player = self._player(ctx)
        target = player.queue.get(position)
        passed = list(player.queue)[: position - 1]
        _require_own_or_dj(self.bot, ctx, passed + ([player.current] if player.current else []), "skip others' tracks")
        player.queue.drop_first(position - 1)
        if player.current is not None:
            self.bot.controls.skip(ctx.guild, ctx.author)  # own or DJ, checked above: no vote
        else:
            player.start()
        await ctx.send(f"Skipped to {describe(target)}.")

    @hybrid_command(name="previous", aliases=["prev", "last"])
    @commands.guild_only()
    async def previous(self, ctx: Ctx) -> None:
        """Play the track played before this one (again for `previous` twice). Example: `previous`"""
        assert ctx.guild is not None
        channel = require_listener(ctx.author, ctx.guild)
        player = self.bot.player_for(ctx.guild)
        current = player.current
        track = await self.bot.queue_memory.history.before(ctx.guild.id, current)
        if track is None:
            raise PlayerError("Nothing was played before this.")
        if current is not None:
            _require_own_or_dj(self.bot, ctx, [current], "leave someone else's track")
        async with self.bot.arrival_order.turn(ctx.guild.id) as turn:
            queued = await queue_for(
                self.bot, turn, guild=ctx.guild, voice_channel=channel, text_channel_id=ctx.channel.id,
                requester_id=ctx.author.id, tracks=[track.requested_by(ctx.author.id)], front=True,
            )  # fmt: skip
        if queued.refusal is not None:
            raise queued.refusal
        if current is not None and player.current is current:
            self.bot.controls.skip(ctx.guild, ctx.author)  # own or DJ, checked above: no vote
        await ctx.send(f"Back to {describe(track)}.")

    @hybrid_command(name="replay", aliases=["rp", "restart"])
    @commands.guild_only()
    async def replay(self, ctx: Ctx) -> None:
        """Start the current track again from the beginning. Example: `replay`"""
        player = self._player(ctx)
        current = player.current
        if current is None:
            raise PlayerError("Nothing is playing.")
        await player.seek(0.0)
        await ctx.send(f"Replaying {describe(current)}.")

    @hybrid_command(name="dedupe", aliases=["dd", "dedup"])
    @commands.guild_only()
    async def dedupe(self, ctx: Ctx) -> None:
        """Remove repeated tracks from the queue, keeping each one's first place (DJ). Example: `dedupe`"""
        player = self._player(ctx)
        require_dj(ctx.author, self.bot.dj_role(ctx.guild), "remove repeated tracks")
        before = tuple(player.queue)
        seen: set[str] = set()

        def repeated(track: Track) -> bool:
            if track.page_url in seen:
                return True
            seen.add(track.page_url)
            return False

        removed = player.queue.remove_where(repeated)
        if not removed:
            await ctx.send("No track is queued twice.")
            return
        await self.bot.queue_memory.undo.remember(
            player.guild_id, "dedupe", before, tuple(player.queue), member_id=ctx.author.id
        )
        await ctx.send(f"Removed {len(removed)} repeated tracks.")

    @hybrid_command(name="undo", aliases=["un"])
    @commands.guild_only()
    async def undo(self, ctx: Ctx) -> None:
        """Revert the last clear, shuffle, remove, move or dedupe; tracks added since stay. Example: `undo`"""
        assert ctx.guild is not None
        book = self.bot.queue_memory.undo
        step = await book.last(ctx.guild.id)
        player = self._player(ctx)
        if step.member_id != ctx.author.id:
            require_dj(ctx.author, self.bot.dj_role(ctx.guild), "undo someone else's change")
        async with self.bot.arrival_order.turn(ctx.guild.id) as turn:
            await turn.wait()  # a play already on its way queues first; undo keeps it
            restored = undone(step, tuple(player.queue))
            player.queue.reset(restored)
        await book.drop(ctx.guild.id)
        await ctx.send(f"Undid the {step.kind}: {len(restored)} tracks in the queue.")

    @hybrid_command(name="history", aliases=["played", "hist"], usage="[page]")
    @commands.guild_only()
    @app_commands.describe(page="Page number, 10 plays a page")
    async def history(self, ctx: Ctx, page: Annotated[int, Position] = 1) -> None:
        """What this server played, newest first, 10 per page. Examples: `history` · `history 2`"""
        assert ctx.guild is not None
        entries = await self.bot.queue_memory.history.recent(ctx.guild.id)
        if not entries:
            await ctx.send("Nothing has been played here yet.")
            return
        pages = math.ceil(len(entries) / HISTORY_PAGE)
        if page > pages:
            choice = f"Pick a page from 1 to {pages}." if pages > 1 else "The history has only one page."
            raise QueueError(f"There is no page {page}. {choice}")
        first = (page - 1) * HISTORY_PAGE
        lines = [f"Played here ({len(entries)}), page {page}/{pages}:"]
        for number, entry in enumerate(entries[first : first + HISTORY_PAGE], start=first + 1):
            who = member_name(ctx.guild, entry.track.requester_id)
            lines.append(f"`{number}.` {describe(entry.track)} for {who}, <t:{int(entry.played_at)}:R>")
        await ctx.send("\n".join(lines)[:MESSAGE_LIMIT])

    @hybrid_command(name="queuemode", aliases=["qm", "qmode"], usage="[fifo|fair|fairtime]")
    @commands.guild_only()
    @app_commands.describe(mode="How the queue orders tracks; leave out to see the mode now")
    @app_commands.choices(mode=MODE_CHOICES)
    async def queuemode(self, ctx: Ctx, mode: str | None = None) -> None:
        """Show or set how the queue orders tracks (DJ): `fifo` (arrival), `fair` (one track per
        member in turn), `fairtime` (members take turns by listening time). The same as
        `settings queuemode`.

        Examples: `queuemode` · `queuemode fair`
        """
        assert ctx.guild is not None
        if mode is not None:
            spec, stored = parse_setting("queuemode", mode, ctx.guild, self.bot.settings)
            require_dj(ctx.author, self.bot.dj_role(ctx.guild), "change the queue mode")
            await change_setting(self.bot, ctx.guild, spec, stored)
        current = self.bot.guild_settings.get(ctx.guild.id).queue_mode
        await ctx.send(f"Queue mode: {current.value} ({current.description}).")


async def setup(bot: BrentBot) -> None:
    await bot.add_cog(QueueToolsCog(bot))
