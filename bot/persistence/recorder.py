"""The player subscriber that writes every state change through to the store, plus the checkpoint clock.

A change of the queue, the current track, the loop mode, the volume or the voice channel is a full
``StateWriter.save`` (the newest snapshot wins, so two members changing the queue at once are both
in it); a change of position or pause alone is a cheap ``StateWriter.checkpoint``. The player
reports pause, resume, seek and skip itself; :meth:`StateRecorder.run_checkpoints` adds a position
checkpoint every ``CHECKPOINT_INTERVAL`` seconds while something plays, which bounds what a kill -9
can lose.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

from audio.events import PlayerEvent, StateChanged
from bot.persistence.snapshot import only_position_changed, player_snapshot, voice_channel_of
from bot.store import GuildState, StateWriter

if TYPE_CHECKING:
    from audio.buffer import ObservedBuffer
    from audio.player import GuildPlayer

log = logging.getLogger(__name__)

CHECKPOINT_INTERVAL = 5.0


class StateRecorder:
    """Snapshots players into a StateWriter; one per bot, subscribed to the bot's player events."""

    def __init__(self, writer: StateWriter, *, text_channels: Mapping[int, int]) -> None:
        self._writer = writer
        self._text_channels = text_channels
        self._last: dict[int, GuildState] = {}
        self._suspended: set[int] = set()
        self._closed = False

    def on_player_event(self, event: PlayerEvent) -> None:
        # A start or an end is followed by a StateChanged, which carries everything.
        if isinstance(event, StateChanged):
            self.record(event.player)

    def record(self, player: ObservedBuffer) -> None:
        """Hand the player's current state to the writer (a save, a checkpoint, or nothing)."""
        guild_id = player.guild_id
        if self._closed or player.closed or guild_id in self._suspended:
            return
        previous = self._last.get(guild_id)
        state = player_snapshot(
            player,
            voice_channel_id=voice_channel_of(player),
            text_channel_id=self._text_channels.get(guild_id),
            previous=previous,
        )
        if previous is not None and only_position_changed(previous, state):
            if (previous.position, previous.paused) != (state.position, state.paused):
                self._writer.checkpoint(guild_id, state.position, paused=state.paused)
        else:
            self._writer.save(state)
        self._last[guild_id] = state

    def seed(self, state: GuildState) -> None:
        """What is in the store already (a restored state): the base for deciding checkpoint vs save."""
        self._last[state.guild_id] = state

    def suspend(self, guild_id: int) -> None:
        """Ignore this guild while it is being rebuilt, so a half-restored queue is never written."""
        self._suspended.add(guild_id)

    def resume(self, guild_id: int) -> None:
        self._suspended.discard(guild_id)

    def checkpoint_all(self, players: Iterable[GuildPlayer]) -> None:
        for player in players:
            if player.current is not None and not player.closed:
                try:
                    self.record(player)
                except Exception:
                    log.exception("guild %s: checkpoint failed", player.guild_id)

    async def run_checkpoints(
        self, players: Callable[[], Iterable[GuildPlayer]], interval: float = CHECKPOINT_INTERVAL
    ) -> None:
        """Checkpoint every playing guild every ``interval`` seconds until cancelled or closed."""
        while not self._closed:
            await asyncio.sleep(interval)
            self.checkpoint_all(list(players()))

    async def close(self, players: Iterable[GuildPlayer]) -> None:
        """Write the final state of ``players`` (positions as of now), then stop accepting changes."""
        if self._closed:
            return
        for player in players:
            try:
                self.record(player)
            except Exception:
                log.exception("guild %s: final snapshot failed", player.guild_id)
        self._closed = True
        await self._writer.close()
