"""Joining and leaving voice, and leaving by itself when nobody is listening."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Annotated

import discord
from discord import app_commands
from discord.ext import commands

from audio.events import PlayerEvent, TrackEnded, TrackStarted
from bot.checks import VoiceLike, bot_voice_channel, listeners, member_voice_channel
from bot.converters import VoiceChannelName
from bot.idle import IdleTimer
from bot.slash import hybrid_command
from bot.voice_connect import voice_comes_back

if TYPE_CHECKING:
    from bot.bot import BrentBot

log = logging.getLogger(__name__)


class VoiceCog(commands.Cog, name="Voice", command_attrs={"ignore_extra": False}):
    def __init__(self, bot: BrentBot) -> None:
        self.bot = bot
        self.idle = IdleTimer(
            bot.settings.idle_timeout,
            is_idle=self._is_idle,
            on_expire=self._leave_idle,
            timeout_for=lambda guild_id: bot.guild_settings.get(guild_id).idle_timeout,
        )

    async def cog_load(self) -> None:
        self.bot.player_events.subscribe(self._player_activity)

    async def cog_unload(self) -> None:
        self.bot.player_events.unsubscribe(self._player_activity)
        self.idle.close()

    @hybrid_command(name="join", aliases=["j", "connect"], usage="[channel]")
    @commands.guild_only()
    @app_commands.describe(channel="A voice channel to join instead of yours")
    async def join(
        self, ctx: commands.Context[BrentBot], *, channel: Annotated[VoiceLike | None, VoiceChannelName] = None
    ) -> None:
        """Join your voice channel, or the one you name.

        Examples: `join` · `join Music`
        """
        assert ctx.guild is not None
        target: VoiceLike = channel or member_voice_channel(ctx.author)
        player = await self.bot.voice_connector.connect(ctx.guild, target)
        self.bot.text_channels[ctx.guild.id] = ctx.channel.id
        resumed = player.start()  # a queue kept by `leave` picks up where it was
        self.idle.update(ctx.guild.id)
        note = f" Resuming the queue ({len(player.queue) + 1} tracks)." if resumed else ""
        await ctx.send(f"Joined {target.mention}.{note}")

    @hybrid_command(name="leave", aliases=["dc", "disconnect"])
    @commands.guild_only()
    async def leave(self, ctx: commands.Context[BrentBot]) -> None:
        """Leave the voice channel. The queue is kept for next time.

        Example: `leave`
        """
        assert ctx.guild is not None
        if not await self.bot.voice_connector.disconnect(ctx.guild):
            await ctx.send("I'm not in a voice channel.")
            return
        self.idle.disarm(ctx.guild.id)
        await ctx.send("Left the voice channel.")

    @commands.Cog.listener()
    async def on_voice_state_update(
        self, member: discord.Member, before: discord.VoiceState, after: discord.VoiceState
    ) -> None:
        guild = member.guild
        if member.id == getattr(self.bot.user, "id", None) and after.channel is None:
            player = self.bot.players.get(guild.id)
            # discord.py's own voice reconnect also leaves the channel first: only a client that
            # is gone means we were put out (kicked, channel deleted).
            if player is not None and player.voice is not None and not await voice_comes_back(guild):
                # Disconnected from outside: stop cleanly, keep the queue.
                log.info("guild %s: voice connection closed from outside", guild.id)
                await player.detach()
            self.idle.disarm(guild.id)
            return
        self.idle.update(guild.id)

    def _player_activity(self, event: PlayerEvent) -> None:
        """A track started or ended (maybe the last one): the guild may have become idle, or busy."""
        if isinstance(event, TrackStarted | TrackEnded):
            self.idle.update(event.guild_id)

    def _is_idle(self, guild_id: int) -> bool:
        guild = self.bot.get_guild(guild_id)
        if guild is None or self.bot.guild_settings.get(guild_id).stay_in_voice:
            return False
        channel = bot_voice_channel(guild)
        if channel is None:
            return False
        if not listeners(channel):
            return True
        player = self.bot.players.get(guild_id)
        return player is None or player.current is None or player.is_paused

    async def _leave_idle(self, guild_id: int) -> None:
        guild = self.bot.get_guild(guild_id)
        if guild is not None:
            await self.bot.voice_connector.disconnect(guild)


async def setup(bot: BrentBot) -> None:
    await bot.add_cog(VoiceCog(bot))
