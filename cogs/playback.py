"""Playing, pausing, seeking and the volume: parse, check, call the guild's player, reply."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Annotated

import discord
from discord import app_commands
from discord.ext import commands

from audio.buffer import ObservedBuffer
from audio.errors import PlayerError
from audio.events import EndReason, PlayerEvent, PlayLimitReached, TrackEnded
from audio.player import GuildPlayer, LoopMode
from audio.track import Track
from bot.admission import member_cooldown
from bot.autocomplete import play_suggestions
from bot.controller import Controllers
from bot.controller_view import ControllerView
from bot.converters import DEFAULT_STEP, LoopModeConverter, Seconds, Timestamp, Volume
from bot.play_request import look_up_and_queue, queued_reply
from bot.slash import hybrid_command
from bot.text import describe, format_duration, safe_text
from bot.track_embeds import NowPlaying, now_playing_embed

if TYPE_CHECKING:
    from bot.bot import BrentBot

log = logging.getLogger(__name__)

LOOP_CHOICES = [app_commands.Choice(name=mode, value=mode) for mode in ("off", "track", "queue")]

Ctx = commands.Context["BrentBot"]


class PlaybackCog(commands.Cog, name="Playback", command_attrs={"ignore_extra": False}):
    def __init__(self, bot: BrentBot) -> None:
        self.bot = bot
        self._notices = TrackEndNotices(bot)
        self.controllers = Controllers(bot)
        self._buttons = ControllerView(bot)

    async def cog_load(self) -> None:
        self.bot.player_events.subscribe(self._notices)
        self.bot.player_events.subscribe(self.controllers)
        self.bot.add_view(self._buttons)  # persistent: answers controllers posted before a restart too

    async def cog_unload(self) -> None:
        # A reloaded cog subscribes new ones; the old ones must not post beside them.
        self.bot.player_events.unsubscribe(self._notices)
        self.bot.player_events.unsubscribe(self.controllers)
        self._buttons.stop()
        await self.controllers.close()

    def _player(self, ctx: Ctx) -> GuildPlayer:
        assert ctx.guild is not None
        return self.bot.controls.player(ctx.guild, ctx.author)

    @hybrid_command(name="play", aliases=["p"], usage="<url or words>")
    @commands.guild_only()
    @commands.dynamic_cooldown(member_cooldown("play_cooldown"), commands.BucketType.member)
    @app_commands.describe(query="A link, or words to search for")
    @app_commands.autocomplete(query=play_suggestions)
    async def play(self, ctx: Ctx, *, query: str) -> None:
        """Play a link (YouTube, SoundCloud, Bandcamp, an audio file) or the first search hit.

        Joins your voice channel if needed. A playlist link queues its tracks.
        Examples: `play https://youtu.be/dQw4w9WgXcQ` · `play daft punk around the world`
        """
        assert ctx.guild is not None
        await ctx.defer()  # a slash command gets 3 s to answer; a lookup may take longer
        queued = await look_up_and_queue(
            self.bot, guild=ctx.guild, author=ctx.author, text_channel_id=ctx.channel.id, query=query
        )
        if (reply := queued_reply(queued)) is not None:
            await ctx.send(reply)

    @hybrid_command(name="pause", aliases=["pa"])
    @commands.guild_only()
    async def pause(self, ctx: Ctx) -> None:
        """Pause the current track. Example: `pause`"""
        assert ctx.guild is not None
        await ctx.send(self.bot.controls.pause(ctx.guild, ctx.author).text)

    @hybrid_command(name="resume", aliases=["re", "unpause"])
    @commands.guild_only()
    async def resume(self, ctx: Ctx) -> None:
        """Resume a paused track. Example: `resume`"""
        assert ctx.guild is not None
        await ctx.send(self.bot.controls.resume(ctx.guild, ctx.author).text)

    @hybrid_command(name="skip", aliases=["s", "next"])
    @commands.guild_only()
    async def skip(self, ctx: Ctx) -> None:
        """Skip the current track; without the DJ role it is a vote of the listeners. Example: `skip`"""
        assert ctx.guild is not None
        await ctx.send(self.bot.controls.skip(ctx.guild, ctx.author).text)

    @hybrid_command(name="stop", aliases=["st"])
    @commands.guild_only()
    async def stop(self, ctx: Ctx) -> None:
        """Stop playing and clear the queue (DJ). Example: `stop`"""
        assert ctx.guild is not None
        await ctx.send((await self.bot.controls.stop(ctx.guild, ctx.author)).text)

    @hybrid_command(name="nowplaying", aliases=["np", "now"])
    @commands.guild_only()
    async def nowplaying(self, ctx: Ctx) -> None:
        """Show the current track with a progress bar. Example: `np`"""
        assert ctx.guild is not None
        player = self.bot.players.get(ctx.guild.id)
        if player is None or player.current is None:
            raise PlayerError("Nothing is playing.")
        await ctx.send(embed=now_playing_embed(NowPlaying.of(player)))

    @hybrid_command(name="rewind", aliases=["rw", "back"], usage="[seconds=10]")
    @commands.guild_only()
    @app_commands.describe(seconds="How far back, like 10 or 1:30 (10 s if left out)")
    async def rewind(self, ctx: Ctx, seconds: Annotated[float, Seconds] = DEFAULT_STEP) -> None:
        """Jump back (10 s by default). Examples: `rewind` · `rewind 30`"""
        player = self._player(ctx)
        await player.rewind(seconds)
        await ctx.send(f"Rewound to {format_duration(player.position or 0.0)}.")

    @hybrid_command(name="forward", aliases=["ff", "fwd"], usage="[seconds=10]")
    @commands.guild_only()
    @app_commands.describe(seconds="How far ahead, like 10 or 1:30 (10 s if left out)")
    async def forward(self, ctx: Ctx, seconds: Annotated[float, Seconds] = DEFAULT_STEP) -> None:
        """Jump ahead (10 s by default). Examples: `forward` · `forward 45`"""
        player = self._player(ctx)
        await player.forward(seconds)
        await ctx.send(self._moved_reply(player))

    @hybrid_command(name="seek", aliases=["sk", "goto"], usage="<[h:]mm:ss | seconds>")
    @commands.guild_only()
    @app_commands.describe(to="A time in the track, like 90, 1:30 or 1:02:03")
    async def seek(self, ctx: Ctx, to: Annotated[float, Timestamp]) -> None:
        """Jump to a time in the track. Examples: `seek 1:30` · `seek 90` · `seek 1:02:03`"""
        player = self._player(ctx)
        await player.seek(to)
        await ctx.send(self._moved_reply(player))

    @staticmethod
    def _moved_reply(player: GuildPlayer) -> str:
        if player.current is None:
            return "That was past the end; nothing left to play."
        return f"Now at {format_duration(player.position or 0.0)} in {describe(player.current)}."

    @hybrid_command(name="volume", aliases=["vol", "v"], usage="<0-200>")
    @commands.guild_only()
    @app_commands.describe(percent="0 to 200; leave out to see the volume")
    async def volume(self, ctx: Ctx, percent: Annotated[int | None, Volume] = None) -> None:
        """Show or set the volume, 0-200 %. Examples: `volume` · `volume 50`"""
        assert ctx.guild is not None
        if percent is None:
            player = self.bot.players.get(ctx.guild.id)
            await ctx.send(f"Volume is {player.volume if player else self.bot.settings.default_volume}%.")
            return
        await ctx.send(self.bot.controls.set_volume(ctx.guild, ctx.author, percent).text)

    @hybrid_command(name="loop", aliases=["lp", "repeat"], usage="<off|track|queue>")
    @commands.guild_only()
    @app_commands.describe(mode="What repeats")
    @app_commands.choices(mode=LOOP_CHOICES)
    async def loop(self, ctx: Ctx, mode: Annotated[LoopMode, LoopModeConverter]) -> None:
        """Repeat nothing, the current track, or the whole queue. Examples: `loop track` · `loop off`"""
        assert ctx.guild is not None
        await ctx.send(self.bot.controls.set_loop(ctx.guild, ctx.author, mode).text)

def time_limit_notice(track: Track, cause: Exception | None) -> str:
    """Why a track stopped on its own before any end of it: the cap it hit, and for what kind of track."""
    title = safe_text(track.title, 200)
    if not isinstance(cause, PlayLimitReached):
        return f"Stopped **{title}**: it reached the longest time a track may play here."
    cap = format_duration(cause.limit)
    kind = "live streams" if cause.live or track.live else "tracks of unknown length"
    return f"Stopped **{title}** at {cap}: {kind} play for at most {cap} here."


class TrackEndNotices:
    """Tells the channel the music was requested from which track failed and which hit a time cap."""

    def __init__(self, bot: BrentBot) -> None:
        self._bot = bot

    def _channel(self, player: ObservedBuffer) -> discord.abc.Messageable | None:
        channel_id = self._bot.text_channels.get(player.guild_id)
        channel = self._bot.get_channel(channel_id) if channel_id else None
        return channel if isinstance(channel, discord.abc.Messageable) else None

    async def __call__(self, event: PlayerEvent) -> None:
        if not isinstance(event, TrackEnded):
            return
        if event.reason is EndReason.FAILED and (channel := self._channel(event.player)) is not None:
            why = getattr(event.error, "user_message", "it could not be played")
            await channel.send(f"Skipped {describe(event.track)}: {safe_text(why, 300)}")
        elif event.reason is EndReason.TIME_LIMIT and (channel := self._channel(event.player)) is not None:
            await channel.send(time_limit_notice(event.track, event.error))


async def setup(bot: BrentBot) -> None:
    await bot.add_cog(PlaybackCog(bot))
