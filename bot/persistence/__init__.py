"""Player state persistence: write-through of every change, position checkpoints, restore at start-up.

``Persistence`` is a cog so it can hear READY; main.py adds it when the store opened. The design
(checkpoint interval, what ``stop`` and ``leave`` keep, restore rules) is in docs/persistence.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

import discord
from discord.ext import commands

from bot.persistence.recorder import CHECKPOINT_INTERVAL, StateRecorder
from bot.persistence.restore import RestoreOutcome, Restorer, RestoreResult
from bot.persistence.snapshot import only_position_changed, player_snapshot, voice_channel_of
from bot.store import StateWriter, Store

if TYPE_CHECKING:
    from audio.events import Subscriber
    from audio.player import GuildPlayer
    from bot.bot import BrentBot

log = logging.getLogger(__name__)

SAVE_WAIT = 3.0  # the longest a reply waits for its change to be written

__all__ = [
    "CHECKPOINT_INTERVAL",
    "Persistence",
    "RestoreOutcome",
    "RestoreResult",
    "Restorer",
    "StateRecorder",
    "only_position_changed",
    "persistence_of",
    "player_snapshot",
    "voice_channel_of",
]


class Persistence(commands.Cog, name="Persistence"):
    """Owns the StateWriter; hooks the recorder and restorer into every player the bot creates."""

    def __init__(
        self,
        bot: BrentBot,
        store: Store,
        *,
        checkpoint_interval: float = CHECKPOINT_INTERVAL,
        connect_attempts: int = 3,
        retry_delay: float = 2.0,
    ) -> None:
        self.bot = bot
        self.store = store
        self.writer = StateWriter(store, on_health_change=self._health_changed)
        self.recorder = StateRecorder(self.writer, text_channels=bot.text_channels)
        self.restorer = Restorer(
            bot, self.recorder, self.writer, attempts=connect_attempts, retry_delay=retry_delay
        )
        self.checkpoint_interval = checkpoint_interval
        self.restored = asyncio.Event()  # set once the start-up restore has run
        self.restore_results: list[RestoreResult] = []
        self._restore_task: asyncio.Task[None] | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._closed = False
        self._subscribers: tuple[Subscriber, ...] = (self.recorder.on_player_event, self.restorer.on_player_event)
        for subscriber in self._subscribers:
            bot.player_events.subscribe(subscriber)

    async def cog_load(self) -> None:
        self._ticker = asyncio.get_running_loop().create_task(
            self.recorder.run_checkpoints(lambda: self.bot.players.values(), self.checkpoint_interval),
            name="state-checkpoints",
        )

    async def cog_unload(self) -> None:
        await self.close()

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        """READY can come again after a reconnect: restore only the first time."""
        if self._restore_task is None and not self._closed:
            self._restore_task = asyncio.get_running_loop().create_task(self._restore(), name="state-restore")

    @commands.Cog.listener()
    async def on_voice_state_update(
        self, member: discord.Member, before: discord.VoiceState, after: discord.VoiceState
    ) -> None:
        """Someone came back to the channel the bot was playing in before the restart: resume there."""
        if member.bot or after.channel is None or self._closed:
            return
        if before.channel is not None and before.channel.id == after.channel.id:
            return
        if member.guild.id in self.restorer.deferred:
            await self.restorer.listener_joined(member.guild.id, after.channel.id)

    async def _restore(self) -> None:
        try:
            self.restore_results = await self.restorer.restore_all(self.store)
        finally:
            self.restored.set()

    def forget(self, guild_id: int) -> None:
        """The bot left the guild: its saved state is deleted and no restore waits for it."""
        self.restorer.deferred.pop(guild_id, None)
        self.writer.forget(guild_id)

    async def saved(self, player: GuildPlayer, *, timeout: float = SAVE_WAIT) -> bool:
        """Wait (briefly) until the player's current state is in the database, before telling a user.

        False when it could not be confirmed in time (database down or slow): the write is still
        pending and will happen, but a reply must not hang on it.
        """
        if self._closed:
            return False
        self.recorder.record(player)
        if self.writer.failing:
            return False
        try:
            await asyncio.wait_for(self.writer.flush(player.guild_id), timeout)
        except TimeoutError:
            log.warning("guild %s: the player state was not saved within %.0f s", player.guild_id, timeout)
            return False
        return True

    async def close(self) -> None:
        """Final snapshot of every player, then close the writer; the bot closes the store after this."""
        if self._closed:
            return
        self._closed = True
        for task in (self._ticker, self._restore_task):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
        await self.recorder.close(list(self.bot.players.values()))
        for subscriber in self._subscribers:
            self.bot.player_events.unsubscribe(subscriber)

    def _health_changed(self, failing: bool) -> None:
        if failing:
            log.error("Saving player state fails; playback continues from memory")


def persistence_of(bot: commands.Bot) -> Persistence | None:
    cog = bot.get_cog("Persistence")
    return cog if isinstance(cog, Persistence) else None
