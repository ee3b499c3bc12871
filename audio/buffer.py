"""The observed buffer of a guild's player: a track placed in it starts playing; a finished track
pulls the next one in.

:meth:`ObservedBuffer._play` is the first half and :meth:`ObservedBuffer._advance` the second;
commands start audio no other way, so one place decides what plays. The gapless hand-over is the same
pair already done by the deck inside its read(): :meth:`ObservedBuffer._handed_over` catches up with it.

A track's stay in the buffer is a :class:`~audio.turn.Turn`; work begun for one turn does nothing
once another is current. Threads: the voice clock reads the deck and calls ``after`` on its own
thread; both only hop onto the loop, where all player state lives.

Parts: :mod:`audio.next_up` readies the next track, :mod:`audio.recovery` reads a source's end and
watches for stalls and reconnects, :mod:`audio.sources` owns the ffmpeg processes and the voice
play, :mod:`audio.turn` is a track's stay and its timer, and subscribers hear :mod:`audio.events`.
The commands people give are :class:`audio.player.GuildPlayer`'s.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from audio import recovery
from audio.deck import Deck
from audio.errors import BrentError, LimitReached, PlayerError
from audio.events import EndReason, PlayerEvent, PlayerEvents, StateChanged, TrackEnded, TrackStarted
from audio.filters import Filters
from audio.loop_mode import LoopMode, following, pull_next, took
from audio.next_up import NextUp
from audio.options import PlayerOptions
from audio.queue import TrackQueue
from audio.sources import PlayHooks, Sources, StreamResolver, Tasks, VoiceTarget, call_on_loop, playback_error
from audio.timed_audio import TimedAudio
from audio.timed_opus import TimedOpus
from audio.track import Track
from audio.turn import Begun, Due, Turn

log = logging.getLogger(__name__)

MAX_VOLUME = 200


class ObservedBuffer:
    """A guild player's state and the machine that moves tracks through its buffer.

    ``extractor`` is anything with ``async stream(track) -> Stream``, asked right before a track
    plays and ahead of time for the next one; ``loop`` receives the voice thread's callbacks;
    ``queue`` defaults to a new one (the player installs its ``on_change``); ``events`` is the bus
    subscribers listen on (the bot's; by default one of the player's own); ``options`` (ffmpeg,
    timings, recovery rules, time caps) may be changed while it plays.
    """

    def __init__(
        self,
        guild_id: int,
        *,
        extractor: StreamResolver,
        loop: asyncio.AbstractEventLoop,
        queue: TrackQueue | None = None,
        events: PlayerEvents | None = None,
        volume: int = 100,
        options: PlayerOptions | None = None,
    ) -> None:
        self.guild_id = guild_id
        self.voice: VoiceTarget | None = None
        self.queue = queue if queue is not None else TrackQueue()
        self.queue.on_change = self._queue_changed
        self.options = options if options is not None else PlayerOptions()
        self._tasks = Tasks(loop)
        hooks = PlayHooks(self._ended_cleanly, self._handed_over, self._source_ended, self._cue_taken)
        self._sources = Sources(loop, self.options, extractor, hooks)
        self._next = NextUp(self._sources, self._tasks, guild_id=guild_id, on_ready=self._arm_next)
        self._events = (events if events is not None else PlayerEvents()).outbox(
            loop, name=f"guild {guild_id}"
        )
        self._turn: Turn | None = None
        self._loop_mode = LoopMode.OFF
        self._volume = self._sources.volume = checked_volume(volume)
        self._held: tuple[Track, float] | None = None  # what detach() interrupted, and where

    @property
    def current(self) -> Track | None:
        """The track in the buffer (starting or playing)."""
        return self._turn.track if self._turn is not None else None

    @property
    def position(self) -> float | None:
        """Seconds into the current track, or None when nothing is playing."""
        return self._turn.position if self._turn is not None else None

    @property
    def is_paused(self) -> bool:
        if self._turn is not None and self._turn.restarting:
            return self._turn.pause_pending
        return self.voice is not None and self.voice.is_paused()

    @property
    def loop_mode(self) -> LoopMode:
        return self._loop_mode

    @property
    def volume(self) -> int:
        return self._volume

    @property
    def filters(self) -> Filters:
        return self._sources.filters

    @property
    def closed(self) -> bool:
        return self._tasks.closed

    @property
    def events(self) -> PlayerEvents:
        return self._events.bus

    # -- the buffer ------------------------------------------------------------------------

    def _play(self, track: Track, *, position: float = 0.0) -> None:
        """Place ``track`` in the buffer, which starts it; a track already there ends REPLACED."""
        previous, self._turn = self._turn, (turn := Turn(track))
        self._drop(previous)
        if position == 0.0:
            self._next.claim(track)
        if previous is not None:
            self._emit(TrackEnded(self, previous.track, EndReason.REPLACED))
        self._tasks.spawn(self._start(turn, start=position), name=f"start-{self.guild_id}")

    def _advance(self, turn: Turn, reason: EndReason, error: Exception | None = None) -> None:
        """``turn``'s track left the buffer: tell subscribers and pull in the next (loop modes live here)."""
        self._emit(TrackEnded(self, turn.track, reason, error))
        self._turn = None
        nxt = pull_next(self.queue, turn.track, reason, self._loop_mode)
        if nxt is not None and not self.closed:
            self._play(nxt)
        else:
            self._emit(StateChanged(self))

    async def _start(self, turn: Turn, *, start: float = 0.0) -> None:
        """Bring the turn's track on air; a track that cannot be opened or played ends FAILED."""
        resumed = turn.restarting
        try:
            begun = await turn.begin(
                start, self, self._sources, self._next, still_current=lambda: self._is_current(turn)
            )
        except Exception as exc:
            if not isinstance(exc, BrentError):
                log.exception("guild %s: could not start %r", self.guild_id, turn.track.title)
            elif self._is_current(turn):
                log.info("guild %s: track %r failed to start: %s", self.guild_id, turn.track.title, exc)
            if self._is_current(turn):
                self._advance(turn, EndReason.FAILED, playback_error(exc))
            return
        if begun is Begun.PLAYING:
            self._now_playing(turn, start=start, resumed=resumed)
        elif begun is Begun.NOT_CONNECTED and self._is_current(turn):
            log.warning("guild %s: not connected, %r goes back to the queue", self.guild_id, turn.track.title)
            self._turn = None
            with contextlib.suppress(LimitReached):
                self.queue.add_next(turn.track)

    def _now_playing(self, turn: Turn, *, start: float, resumed: bool) -> None:
        """A source of the turn's track is in the deck: tell subscribers, ready the next, start the timer."""
        pid = turn.source.pid if turn.source is not None else None
        how = "resumed" if resumed else "playing"
        log.info(
            "guild %s: %s %r from %.1f s (ffmpeg pid %s)", self.guild_id, how, turn.track.title, start, pid
        )
        if not resumed:
            self._emit(TrackStarted(self, turn.track))
        self._emit(StateChanged(self))
        self._refresh_next()
        self._arm_next()
        turn.timer = self._tasks.spawn(self._watch(turn), name=f"track-timer-{self.guild_id}")

    def _ended_cleanly(self, source: TimedAudio) -> bool:
        """For the deck, on the voice thread: did ``source`` finish, so the armed next may follow?"""
        turn = self._turn
        if turn is None or (source is not turn.source and source is not turn.cued):
            return False
        return recovery.finished(
            turn.track.duration, source, recoveries=turn.recoveries, options=self.options
        )

    def _source_ended(self, deck: Deck, error: Exception | None) -> None:
        """The voice play ended (badly, or with nothing armed): finished, failed, restart or wait."""
        turn = self._turn
        if turn is None or deck is not turn.deck or turn.source is None or self.closed:
            return  # a stop, skip, replace or restart already dealt with that source
        connected = self.voice is not None and self.voice.is_connected()
        verdict = recovery.classify_end(
            turn.track.duration, recovery.SourceEnd.of(turn.source, error), recoveries=turn.recoveries,
            options=self.options, voice_connected=connected,
        )  # fmt: skip
        recovery.log_verdict(
            self.guild_id, turn.track, verdict, turn.recoveries, self.options.recovery_attempts
        )
        self._drop(turn)
        if isinstance(turn.source, TimedOpus) and turn.source.framing_refused:
            self._sources.refuse_copy(turn.track)  # the restart plays it as PCM
        match verdict:
            case recovery.Ended(reason, failure):
                self._advance(turn, reason, failure)
            case recovery.AwaitReconnect(position):
                self._turn = later = Turn(turn.track, turn.recoveries, resume_at=position)
                self._tasks.spawn(self._resume_after_reconnect(later), name=f"reconnect-wait-{self.guild_id}")
            case recovery.RestartAt(position):
                self._turn = again = Turn(turn.track, turn.recoveries + 1, resume_at=position)
                self._tasks.spawn(self._start(again, start=position), name=f"recover-{self.guild_id}")

    def _handed_over(self, ended: TimedAudio, source: TimedAudio, track: Track) -> None:
        """The deck went on from the finished track to ``track`` without a gap: catch up with it
        (a FINISHED end and a :meth:`_play`, except that the next source already plays)."""
        turn = self._turn
        if self.closed or turn is None or turn.deck is None or turn.deck.source is not source:
            return  # stopped meanwhile: the deck's cleanup took ``source`` with it
        if turn.timer is not None:
            turn.timer.cancel()
        self._sources.discard_later(ended)
        if turn.cued is not None:
            self._sources.discard_later(turn.cued)  # the deck dropped it: too late for this track
        self._next.handed_over()
        self._emit(TrackEnded(self, turn.track, EndReason.FINISHED))
        took(self.queue, turn.track, track, self._loop_mode)
        source.play_limit = self._sources.play_limit(track, source.stream)  # it may have been measured since
        self._turn = nxt = Turn(track, source=source, deck=turn.deck, volume=turn.volume)
        self._now_playing(nxt, start=0.0, resumed=False)

    def _cue_taken(self, replaced: TimedAudio, cued: TimedAudio) -> None:
        """The deck went over to the source with the new effects (see :meth:`Turn.refilter`)."""
        turn = self._turn
        if turn is not None and not self.closed and (old := turn.cue_taken(replaced, cued)) is not None:
            self._sources.discard_later(old)
            turn.rewatch()

    async def _resume_after_reconnect(self, turn: Turn) -> None:
        wait = self.options.reconnect_wait
        back = await recovery.voice_returns(
            lambda: self.voice, wait, still_wanted=lambda: self._is_current(turn)
        )
        if back and turn.resume_at is not None:
            log.info("guild %s: voice is back, resuming %r", self.guild_id, turn.track.title)
            await self._start(turn, start=turn.resume_at)
        elif back is False:
            log.info("guild %s: voice did not come back; detaching", self.guild_id)
            await self.detach()

    async def _watch(self, turn: Turn) -> None:
        async with contextlib.aclosing(turn.ticks(self.options)) as ticks:
            async for due in ticks:
                if not self._is_current(turn):
                    return
                if due is Due.PRESTART and (candidate := self._following()) is not None:
                    self._next.want(candidate, start=True)
                elif due is Due.CHECKPOINT and not self.is_paused:
                    self._emit(StateChanged(self))
                elif due is Due.STALL_CHECK and turn.stall is not None:
                    turn.stall = await turn.stall.check(turn.source, self.voice, guild_id=self.guild_id)

    # -- the next track --------------------------------------------------------------------

    def _refresh_next(self) -> None:
        """Tell the pipeline what comes next now (after a start, a queue edit or a loop mode change)."""
        turn = self._turn
        if self.closed or turn is None or turn.handed_over:
            return  # the hand-over is on its way to the loop and refreshes after it
        remaining = turn.remaining()
        near_end = remaining is not None and remaining <= self.options.prestart_lead
        self._next.want(self._following(), start=near_end)

    def _following(self) -> Track | None:
        return following(self.queue, self.current, self._loop_mode)

    def _arm_next(self) -> None:
        turn = self._turn
        if turn is not None and turn.deck is not None and not turn.handed_over:
            self._next.arm(turn.deck, self._following())

    def start(self, *, position: float = 0.0) -> bool:
        """Start the queue if nothing is in the buffer and voice is connected; True if started.

        For the voice cog after (re)connecting and for restoring a saved state (``position`` is
        where the first track starts); :meth:`enqueue` calls it too.
        """
        if self.closed or self._turn is not None or not self.queue:
            return False
        if self.voice is None or not self.voice.is_connected():
            return False
        held, self._held = self._held, None
        track = self.queue.pop_next()
        if track is None:
            return False
        if held is not None and position == 0.0 and track is held[0]:
            position = held[1]  # the track detach() interrupted continues where it was
        self._play(track, position=max(0.0, position))
        return True

    async def detach(self) -> None:
        """The voice connection is gone or going: stop playing but keep the queue.

        The interrupted track goes back to the front of the queue and :meth:`start` continues it
        from where it was; its end is reported as STOPPED, ffmpeg is killed and ``voice`` is
        cleared. After a new connection, set ``voice`` and call :meth:`start`.
        """
        turn, position = self._turn, self.position
        self._turn = None
        self._drop(turn)
        await self._next.clear()
        self.voice = None
        if turn is not None:
            self._emit(TrackEnded(self, turn.track, EndReason.STOPPED))
            try:
                self.queue.add_next(turn.track)
            except LimitReached:
                log.info("guild %s: queue full, %r not kept", self.guild_id, turn.track.title)
            else:
                self._held = (turn.track, position or 0.0)
        self._emit(StateChanged(self))

    def pause(self) -> None:
        self._set_paused(True)

    def resume(self) -> None:
        self._set_paused(False)

    def _set_paused(self, paused: bool) -> None:
        turn = self._turn
        if turn is not None and turn.restarting:
            turn.pause_pending = paused  # the restarted source starts paused (or not)
        elif paused:
            self._require_playing().pause()
        else:
            self._require_playing().resume()
        self._emit(StateChanged(self))

    # -- helpers ---------------------------------------------------------------------------

    def _drop(self, turn: Turn | None) -> None:
        """Stop the voice play and kill the turn's ffmpeg without waiting; the caller says what follows."""
        self._next.disarm()
        if self.voice is not None and (self.voice.is_playing() or self.voice.is_paused()):
            self.voice.stop()
        if turn is not None:
            turn.release(self._sources)

    def _queue_changed(self) -> None:
        call_on_loop(self._tasks.loop, self._after_queue_change)  # from wherever the queue was touched

    def _after_queue_change(self) -> None:
        if not self.closed:
            self._refresh_next()
            self._emit(StateChanged(self))

    def _emit(self, event: PlayerEvent) -> None:
        if not self.closed:
            self._events.emit(event)

    def _is_current(self, turn: Turn) -> bool:
        return turn is self._turn and not self.closed

    def _require_playing(self) -> VoiceTarget:
        if self._turn is None or self._turn.source is None or self.voice is None:
            raise PlayerError("Nothing is playing.")
        return self.voice


def checked_volume(percent: int) -> int:
    """The one volume rule, for the constructor and the volume command alike."""
    if not 0 <= percent <= MAX_VOLUME:
        raise PlayerError(f"Volume must be between 0 and {MAX_VOLUME}.")
    return int(percent)
