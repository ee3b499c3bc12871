"""Bringing each guild's player back after a restart or a crash, from the saved GuildStates.

Rules (docs/persistence.md): only the guilds of this process's shards are touched (with
``SHARD_COUNT`` the others belong to other processes, which restore them). Of those, a guild the
bot is no longer in is forgotten; otherwise loop mode, volume, announce channel and queue are
rebuilt. The bot rejoins the saved voice channel only if a human is in it; then the current track
resumes at its checkpoint (and is paused again if it was paused). If nobody is in that channel the saved state is kept as it is and the restore is deferred
until someone joins it. If the channel is gone or connecting fails, the queue waits in memory, as
after ``leave``: the interrupted track goes back to the front and the next ``join`` or ``play``
carries on from there.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import discord

from audio.errors import StoreError
from audio.events import PlayerEvent, StateChanged, TrackStarted
from audio.player import LoopMode
from bot.arrival_order import Turn
from bot.checks import listeners
from bot.persistence.recorder import StateRecorder
from bot.queueing import VoiceLike, queue_for
from bot.store import GuildState, StateWriter, Store

if TYPE_CHECKING:
    from audio.player import GuildPlayer
    from bot.bot import BrentBot

log = logging.getLogger(__name__)

CONNECT_ATTEMPTS = 3
RETRY_DELAY = 2.0  # seconds before the second attempt; doubled for each further one


class RestoreOutcome(enum.StrEnum):
    RESUMED = "resumed"  # rejoined voice and playing (or paused) where it was
    WAITING = "waiting"  # settings and queue rebuilt in memory; not in voice
    DEFERRED = "deferred"  # saved state untouched; restored when a member joins its voice channel
    FORGOTTEN = "forgotten"  # the guild is gone; its state was dropped
    SKIPPED = "skipped"  # left alone (guild unavailable, or already in use again)
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class RestoreResult:
    guild_id: int
    outcome: RestoreOutcome
    reason: str


class Restorer:
    """Runs the restore once per process; also a player event subscriber, to re-pause a restored paused track."""

    def __init__(
        self,
        bot: BrentBot,
        recorder: StateRecorder,
        writer: StateWriter,
        *,
        attempts: int = CONNECT_ATTEMPTS,
        retry_delay: float = RETRY_DELAY,
    ) -> None:
        self._bot = bot
        self._recorder = recorder
        self._writer = writer
        self._attempts = max(1, attempts)
        self._retry_delay = retry_delay
        self._pause_when_started: set[int] = set()
        self.deferred: dict[int, GuildState] = {}  # guild id -> state waiting for a listener

    def on_player_event(self, event: PlayerEvent) -> None:
        guild_id = event.guild_id
        if isinstance(event, TrackStarted) and guild_id in self._pause_when_started:
            self._pause_when_started.discard(guild_id)
            try:
                event.player.pause()
            except Exception:
                log.warning("guild %s: could not pause the restored track again", guild_id)
        # The guild is in use again: its saved state is being replaced, so it must not come back later.
        elif isinstance(event, StateChanged) and self.deferred.pop(guild_id, None) is not None:
            log.info("guild %s: deferred restore dropped; the player is in use again", guild_id)

    async def listener_joined(self, guild_id: int, channel_id: int) -> RestoreResult | None:
        """A member joined ``channel_id``: run the deferred restore if it was waiting for that channel."""
        state = self.deferred.get(guild_id)
        if state is None or state.voice_channel_id != channel_id:
            return None
        del self.deferred[guild_id]
        result = await self.restore(state)
        log.info("guild %s: deferred restore %s (%s)", guild_id, result.outcome.value, result.reason)
        return result

    async def restore_all(self, store: Store) -> list[RestoreResult]:
        """Restore every saved guild; a bad row or an unreachable database never raises."""
        try:
            states = await store.load_states()
        except StoreError as exc:
            log.error("Could not load saved player state; nothing restored: %s", exc)
            return []
        except Exception:
            log.exception("Could not load saved player state; nothing restored")
            return []
        shards = self._bot.settings.shards
        if shards is not None:
            # Another process holds the other shards' guilds: their saved state is theirs to restore.
            states = [state for state in states if shards.holds(state.guild_id)]
            log.info("Restoring the player state of %d guild(s) on %s", len(states), shards)
        else:
            log.info("Restoring the player state of %d guild(s)", len(states))
        results = await asyncio.gather(*(self.restore(state) for state in states))
        for result in results:
            log.info("guild %s: restore %s (%s)", result.guild_id, result.outcome.value, result.reason)
        return list(results)

    async def restore(self, state: GuildState) -> RestoreResult:
        guild_id = state.guild_id
        try:
            return await self._restore(state)
        except Exception as exc:
            log.exception("guild %s: restoring the saved state failed", guild_id)
            return RestoreResult(guild_id, RestoreOutcome.FAILED, type(exc).__name__)
        finally:
            self._recorder.resume(guild_id)

    async def _restore(self, state: GuildState) -> RestoreResult:
        guild_id = state.guild_id
        guild = self._bot.get_guild(guild_id)
        if guild is None:
            self._writer.forget(guild_id)
            return RestoreResult(guild_id, RestoreOutcome.FORGOTTEN, "the bot is no longer in this guild")
        if guild.unavailable:
            return RestoreResult(guild_id, RestoreOutcome.SKIPPED, "the guild is unavailable")
        existing = self._bot.players.get(guild_id)
        if existing is not None and (existing.current is not None or existing.queue):
            return RestoreResult(guild_id, RestoreOutcome.SKIPPED, "already playing again")
        channel = guild.get_channel(state.voice_channel_id) if state.voice_channel_id is not None else None
        has_tracks = state.current is not None or bool(state.queue)
        if has_tracks and isinstance(channel, VoiceLike) and not listeners(channel):
            self.deferred[guild_id] = state
            return RestoreResult(guild_id, RestoreOutcome.DEFERRED, "nobody is in the voice channel yet")
        # The saved queue takes its turn before any command that arrives while it is restored.
        async with self._bot.arrival_order.turn(guild_id) as turn:
            return await self._requeue(state, guild, channel if isinstance(channel, VoiceLike) else None, turn)

    async def _requeue(
        self, state: GuildState, guild: discord.Guild, channel: VoiceLike | None, turn: Turn
    ) -> RestoreResult:
        guild_id = state.guild_id
        self._recorder.suspend(guild_id)
        player = self._bot.player_for(guild)
        player.set_volume(state.volume)
        player.set_loop(LoopMode(state.loop_mode))
        await player.set_filters(state.filters)
        text_channel_id = state.text_channel_id
        if text_channel_id is not None and guild.get_channel(text_channel_id) is None:
            text_channel_id = None
        tracks = ([state.current] if state.current is not None else []) + list(state.queue)
        voice: VoiceLike | None = None
        if not tracks:
            reason = "nothing to play"
        elif state.voice_channel_id is None:
            reason = "it was not in voice"
        elif channel is None:
            reason = "the voice channel is gone"
        elif not await self._connect(guild, channel):
            reason = "could not connect to voice"
        else:
            voice, reason = channel, ""
        position = state.position if state.current is not None and voice is not None else 0.0
        if voice is not None:
            if state.paused and state.current is not None:
                self._pause_when_started.add(guild_id)
            self._recorder.seed(state)
        self._recorder.resume(guild_id)
        queued = await queue_for(
            self._bot, turn, guild=guild, voice_channel=voice, text_channel_id=text_channel_id,
            requester_id=None, tracks=tracks, start_at=position,
            front=True,  # the queue is empty here: the saved order comes back as it was, whatever the mode
        )  # fmt: skip
        if voice is None:
            return self._waiting(player, state, reason)
        if not queued.tracks or queued.position != 0:
            self._pause_when_started.discard(guild_id)
            return RestoreResult(guild_id, RestoreOutcome.FAILED, "the player did not start")
        return RestoreResult(guild_id, RestoreOutcome.RESUMED, f"at {position:.1f} s")

    def _waiting(self, player: GuildPlayer, state: GuildState, reason: str) -> RestoreResult:
        self._recorder.resume(state.guild_id)
        self._recorder.record(player)
        return RestoreResult(state.guild_id, RestoreOutcome.WAITING, reason)

    async def _connect(self, guild: discord.Guild, channel: VoiceLike) -> bool:
        delay = self._retry_delay
        for attempt in range(1, self._attempts + 1):
            try:
                await self._bot.voice_connector.connect(guild, channel)
                return True
            except Exception as exc:
                log.warning("guild %s: rejoining voice failed (attempt %d of %d): %s",
                            guild.id, attempt, self._attempts, getattr(exc, "user_message", exc))
            if attempt < self._attempts:
                await asyncio.sleep(delay)  # back off before trying again
                delay *= 2
        return False
