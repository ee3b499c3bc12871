"""One GuildPlayer per guild: the queue, the track in the buffer, and the voice connection's source.

The design follows the user's observer note: putting a track into the *buffer* is what starts it,
and the end of a track (discord's ``after`` callback) is an event that pulls the next track into
the buffer. Commands never call "play" themselves, so there is one place that decides what plays.

Threads: discord.py reads the source and calls ``after`` on its own player thread. ``after`` only
hands the event to the event loop (``run_coroutine_threadsafe``, never waiting for the result);
all player state is touched on the loop. ffmpeg processes are started and killed in worker threads
because spawning and reaping block.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import inspect
import logging
import math
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any, Protocol

import discord

from audio.deck import Deck
from audio.errors import BrentError, LimitReached, PlayerError
from audio.queue import TrackQueue
from audio.timed_audio import DEFAULT_RW_TIMEOUT, TimedAudio
from audio.track import Stream, Track

if TYPE_CHECKING:
    from audio.ffmpeg_standby import FfmpegStandby

log = logging.getLogger(__name__)

MAX_VOLUME = 200
STREAM_MAX_AGE = 1800.0  # seconds a prefetched stream URL is trusted without an expiry hint
STREAM_EXPIRY_MARGIN = 120.0  # refetch when the provider's expiry is closer than this
PRESTART_LEAD = 3.0  # start the next ffmpeg this many seconds before the current track ends
PRESTARTED_MAX_AGE = 30.0  # a pre-started ffmpeg older than this is not trusted to still be connected
CHECKPOINT_INTERVAL = 15.0  # state_changed while playing, so the saved position stays recent
RECOVERY_ATTEMPTS = 2  # fresh-stream restarts per track after its source broke off mid-way
END_TOLERANCE = 1.5  # a source ending this close to the known duration simply finished
STALL_TIMEOUT = 10.0  # seconds of no progress while playing before ffmpeg is presumed stuck
RECONNECT_WAIT = 30.0  # how long a track cut off by a voice drop waits for the reconnect
PREVIOUS_PLAYER_WAIT = 1.0  # at most this long for a stopped voice play to send its last frames
# discord.py's Opus encoder settings. In-band FEC doubles the encoder's CPU per stream and takes
# bits from the music (measured: 16.6 vs 8.4 ms CPU per second of audio, 113 vs 131 kbit/s); its
# redundancy only exists in the SILK/hybrid modes speech uses, not in the CELT mode of music.
VOICE_ENCODER_OPTIONS: dict[str, Any] = {"fec": False}


class LoopMode(enum.StrEnum):
    OFF = "off"
    TRACK = "track"
    QUEUE = "queue"


class EndReason(enum.Enum):
    """Why a track left the buffer; ``may_start_next`` says whether the queue advances on its own.

    TIME_LIMIT: a live stream or a track of unknown length played to its cap. Neither loop mode
    plays it again, since that would only turn a stream without an end back into one.
    """

    FINISHED = "finished"
    SKIPPED = "skipped"
    STOPPED = "stopped"
    FAILED = "failed"
    REPLACED = "replaced"
    TIME_LIMIT = "time_limit"

    @property
    def may_start_next(self) -> bool:
        # STOPPED clears everything; REPLACED means the replacement is already starting.
        return self in (EndReason.FINISHED, EndReason.FAILED, EndReason.SKIPPED, EndReason.TIME_LIMIT)


class PlayLimitReached(Exception):
    """Not a failure: what a TIME_LIMIT end hands listeners as ``error``, so they can say which cap it was."""

    def __init__(self, limit: float, *, live: bool) -> None:
        super().__init__(f"stopped at the {'live stream' if live else 'unknown length'} cap of {limit:g} s")
        self.limit = limit
        self.live = live


class VoiceTarget(Protocol):
    """What GuildPlayer uses of :class:`discord.VoiceClient`."""

    def play(
        self, source: discord.AudioSource, *, after: Callable[[Exception | None], Any], fec: bool = True
    ) -> None: ...
    def stop(self) -> None: ...
    def pause(self) -> None: ...
    def resume(self) -> None: ...
    def is_playing(self) -> bool: ...
    def is_paused(self) -> bool: ...
    def is_connected(self) -> bool: ...

    @property
    def source(self) -> discord.AudioSource | None: ...

    @source.setter
    def source(self, value: discord.AudioSource) -> None: ...


class StreamResolver(Protocol):
    """Turns a track into a fresh stream URL right before it plays (the Extractor)."""

    async def stream(self, track: Track) -> Stream: ...


class PlayerListener(Protocol):
    """Observers of a player. Every method is optional and may be sync or async.

    Calls happen on the event loop, in the order the events happened, from a separate task: a slow
    or broken listener never delays or stops playback (its exceptions are logged).
    """

    async def track_started(self, player: GuildPlayer, track: Track) -> None: ...

    async def track_ended(
        self, player: GuildPlayer, track: Track, reason: EndReason, error: Exception | None
    ) -> None:
        """``error`` is the failure for FAILED, a :class:`PlayLimitReached` for TIME_LIMIT, else None."""

    async def state_changed(self, player: GuildPlayer) -> None: ...


@dataclass(eq=False)
class _Prepared:
    """The next track, fetched ahead: its stream and maybe an ffmpeg already running."""

    track: Track
    stream: Stream
    fetched_at: float = field(default_factory=time.monotonic)
    source: TimedAudio | None = None
    source_started_at: float = 0.0


class GuildPlayer:
    """Plays one guild's queue into its voice connection.

    Parameters
    ----------
    guild_id:
        The guild this player belongs to (for logs and listeners).
    extractor:
        Anything with ``async stream(track) -> Stream``; called right before a track plays and
        ahead of time for the next one.
    loop:
        The bot's event loop; ``after`` callbacks from discord's thread are sent here.
    ffmpeg, ffmpeg_stderr:
        The ffmpeg binary and the file its stderr goes to.
    queue:
        The queue to play from (a new one by default); the player installs its ``on_change``.
    listeners:
        Observers (see :class:`PlayerListener`); more can be added with :meth:`add_listener`.
    prestart_lead:
        Seconds before the end of the current track at which the next ffmpeg is started.
    checkpoint_interval:
        While a track plays, ``state_changed`` fires this often (position checkpoints).
    rw_timeout:
        Seconds of network silence after which ffmpeg gives up on a source.
    recovery_attempts, end_tolerance:
        A source that ends (cleanly or not) more than ``end_tolerance`` seconds before the track's
        known duration broke off: the track is restarted where it was, on a freshly resolved
        stream, at most ``recovery_attempts`` times; then it fails.
    stall_timeout:
        A source whose position has not moved for this long while playing (not paused, voice
        connected) is killed, which lands in the same recovery.
    reconnect_wait:
        A source cut off while the voice connection is down waits this long for the reconnect
        and then resumes at its position; otherwise the player detaches (queue kept).
    standby:
        Already-running ffmpeg processes shared by the bot's players; a track that starts from
        its beginning takes one instead of paying for a process start.
    ffmpeg_env:
        ffmpeg's environment: the egress proxy's, so every connection it makes is checked.
    max_live_duration, max_unknown_duration:
        Seconds a live stream, and any other track whose length is unknown, may play before it
        ends with TIME_LIMIT (None: no cap). Such a track has no end of its own; a track of known
        length was already held to the length cap when it was queued.
    """

    def __init__(
        self,
        guild_id: int,
        *,
        extractor: StreamResolver,
        loop: asyncio.AbstractEventLoop,
        ffmpeg: str = "ffmpeg",
        ffmpeg_stderr: IO[bytes] | None = None,
        queue: TrackQueue | None = None,
        listeners: Sequence[PlayerListener] = (),
        prestart_lead: float = PRESTART_LEAD,
        checkpoint_interval: float = CHECKPOINT_INTERVAL,
        rw_timeout: float = DEFAULT_RW_TIMEOUT,
        recovery_attempts: int = RECOVERY_ATTEMPTS,
        end_tolerance: float = END_TOLERANCE,
        stall_timeout: float = STALL_TIMEOUT,
        reconnect_wait: float = RECONNECT_WAIT,
        standby: FfmpegStandby | None = None,
        ffmpeg_env: Mapping[str, str] | None = None,
        max_live_duration: float | None = None,
        max_unknown_duration: float | None = None,
    ) -> None:
        self.guild_id = guild_id
        self.max_live_duration = max_live_duration
        self.max_unknown_duration = max_unknown_duration
        self._ffmpeg_env = ffmpeg_env
        self._standby = standby
        self.voice: VoiceTarget | None = None
        self.queue = queue if queue is not None else TrackQueue()
        self.queue.on_change = self._queue_changed
        self._resolver = extractor
        self._loop = loop
        self._ffmpeg = ffmpeg
        self._ffmpeg_stderr = ffmpeg_stderr
        self._listeners: list[PlayerListener] = list(listeners)
        self._prestart_lead = prestart_lead
        self._checkpoint_interval = checkpoint_interval
        self.rw_timeout = rw_timeout
        self.recovery_attempts = recovery_attempts
        self.end_tolerance = end_tolerance
        self.stall_timeout = stall_timeout
        self.reconnect_wait = reconnect_wait
        self._recoveries = 0  # restarts of the current track so far
        self._resume_at: float | None = None  # position of a track being restarted after a break
        self._pause_pending = False  # paused while restarting: the new source starts paused

        self._loop_mode = LoopMode.OFF
        self._volume = 100
        self._current: Track | None = None
        self._source: TimedAudio | None = None
        self._deck: Deck | None = None  # what the voice client plays: the current source, then the next
        self._deck_finished: asyncio.Event | None = None  # set once the last deck's voice play is done
        self._volume_source: discord.PCMVolumeTransformer[Deck] | None = None
        # Bumped whenever the buffer gets a new track or is emptied: late callbacks and tasks
        # from an older generation see the mismatch and do nothing.
        self._generation = 0
        self._prepared: _Prepared | None = None
        self._preparing: Track | None = None  # a prefetch of this track is in flight
        self._prepare_task: asyncio.Task[Any] | None = None
        self._opening: Track | None = None  # _open() is waiting for that prefetch
        self._prestart_task: asyncio.Task[Any] | None = None
        self._prestart_generation = -1
        self._seek_lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._track_tasks: list[asyncio.Task[Any]] = []  # timers of the source now playing
        self._cleanups: set[asyncio.Task[Any]] = set()  # never cancelled: they kill ffmpeg
        self._events: asyncio.Queue[Callable[[], Awaitable[None]] | None] = asyncio.Queue()
        self._event_task: asyncio.Task[None] | None = None
        self._closed = False
        self._held: tuple[Track, float] | None = None  # what detach() interrupted, and where
        # Every ffmpeg we started and have not cleaned up; touched from worker threads.
        self._sources_lock = threading.Lock()
        self._live_sources: set[TimedAudio] = set()

    # -- state -----------------------------------------------------------------------------

    @property
    def current(self) -> Track | None:
        """The track in the buffer (starting or playing)."""
        return self._current

    @property
    def loop_mode(self) -> LoopMode:
        return self._loop_mode

    @property
    def volume(self) -> int:
        return self._volume

    @property
    def position(self) -> float | None:
        """Seconds into the current track, or None when nothing is playing."""
        source = self._source
        if source is not None:
            return source.position
        return self._resume_at if self._current is not None else None

    @property
    def is_paused(self) -> bool:
        if self._source is None and self._resume_at is not None:
            return self._pause_pending
        return self.voice is not None and self.voice.is_paused()

    @property
    def closed(self) -> bool:
        return self._closed

    def add_listener(self, listener: PlayerListener) -> None:
        self._listeners.append(listener)

    def remove_listener(self, listener: PlayerListener) -> None:
        with contextlib.suppress(ValueError):
            self._listeners.remove(listener)

    # -- the buffer ------------------------------------------------------------------------

    @property
    def _buffer(self) -> Track | None:
        return self._current

    @_buffer.setter
    def _buffer(self, track: Track | None) -> None:
        """Putting a track here starts it; a track already playing ends with REPLACED."""
        self._load(track)

    def _load(self, track: Track | None, *, position: float = 0.0) -> None:
        previous = self._current
        self._generation += 1
        self._drop_current_source()
        if previous is not None and track is not None:
            self._emit_track_ended(previous, EndReason.REPLACED, None)
        self._current = track
        self._recoveries = 0
        self._resume_at = None
        self._pause_pending = False
        if track is not None:
            self._spawn_task(
                self._start(track, self._generation, start=position), name=f"start-{self.guild_id}"
            )

    async def _start(
        self, track: Track, generation: int, *, start: float = 0.0, resumed: bool = False
    ) -> None:
        """Open a source for ``track`` and play it; ``resumed`` restarts it after a break (fresh URL)."""
        try:
            if resumed:
                source = await self._spawn(track, await self._resolver.stream(track), start)
            else:
                source = await self._open(track, start)
        except BrentError as exc:
            if generation == self._generation:
                log.info("guild %s: track %r failed to start: %s", self.guild_id, track.title, exc)
                self._track_over(track, EndReason.FAILED, exc)
            return
        except Exception as exc:
            log.exception("guild %s: could not start %r", self.guild_id, track.title)
            if generation == self._generation:
                self._track_over(track, EndReason.FAILED, _playback_error(exc))
            return
        finished = self._deck_finished
        if finished is not None and not finished.is_set():
            # The previous voice play may still be sending its closing silence (a skip stops it without
            # waiting). The shared voice clock keeps a connection's packets in order by itself, but a
            # VoiceTarget with a thread per play (discord.py's AudioPlayer) would interleave them.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(finished.wait(), PREVIOUS_PLAYER_WAIT)
        if generation != self._generation or self._closed:
            await self._discard(source)
            return
        voice = self.voice
        if voice is None or not voice.is_connected():
            log.warning(
                "guild %s: not connected, %r goes back to the front of the queue", self.guild_id, track.title
            )
            await self._discard(source)
            self._current = None
            self._generation += 1
            with contextlib.suppress(LimitReached):
                self.queue.add_next(track)
            return
        # The track may have been measured while its source started (update_track swaps it in).
        source.play_limit = self._play_limit(self._current or track, source.stream)
        deck = Deck(source, ended_cleanly=self._ended_cleanly, on_switch=self._switch_callback())
        volume_source = discord.PCMVolumeTransformer(deck, volume=self._volume / 100)
        finished = asyncio.Event()
        try:
            voice.play(volume_source, after=self._after_callback(deck, finished), **VOICE_ENCODER_OPTIONS)
            if resumed and self._pause_pending:
                voice.pause()
        except Exception as exc:
            log.exception("guild %s: voice refused to play %r", self.guild_id, track.title)
            await self._discard(source)
            self._track_over(track, EndReason.FAILED, _playback_error(exc))
            return
        self._deck = deck
        self._deck_finished = finished
        self._source = source
        self._volume_source = volume_source
        self._resume_at = None
        self._pause_pending = False
        self._now_playing(track, source, generation, start=start, resumed=resumed)

    def _now_playing(
        self, track: Track, source: TimedAudio, generation: int, *, start: float, resumed: bool
    ) -> None:
        """A source of ``track`` is in the deck: tell listeners and set up the track's timers."""
        log.info(
            "guild %s: %s %r from %.1f s (ffmpeg pid %s)",
            self.guild_id, "resumed" if resumed else "playing", track.title, start, source.pid,
        )  # fmt: skip
        if not resumed:
            self._emit("track_started", track)
        self._emit_state_changed()
        self._refresh_prepared()
        self._arm_prepared()
        self._arm_prestart(generation)
        self._cancel_track_tasks()
        self._track_tasks.append(
            self._spawn_task(self._checkpoints(generation), name=f"checkpoints-{self.guild_id}")
        )
        if self.stall_timeout > 0:
            self._track_tasks.append(
                self._spawn_task(self._watch_stall(generation), name=f"stall-watch-{self.guild_id}")
            )

    def _cancel_track_tasks(self) -> None:
        """The checkpoint and stall timers of a source that is gone (they would sleep on for seconds)."""
        tasks, self._track_tasks = self._track_tasks, []
        for task in tasks:
            task.cancel()

    def _arm_prestart(self, generation: int) -> None:
        task = self._prestart_task
        if task is not None and not task.done() and self._prestart_generation != generation:
            task.cancel()  # waiting on a source that is gone (a restart after a break)
        elif task is not None and not task.done():
            return
        if self._current is None or self._current.duration is None:
            return
        self._prestart_generation = generation
        self._prestart_task = self._spawn_task(
            self._prestart_near_end(generation), name=f"prestart-{self.guild_id}"
        )

    async def _open(self, track: Track, start: float) -> TimedAudio:
        """A running source for ``track``: the pre-started one if still good, else a fresh one."""
        task = self._prepare_task
        if self._preparing is track and task is not None and not task.done():
            self._opening = track
            try:
                await asyncio.shield(task)  # resolving the same track twice would only add delay
            finally:
                self._opening = None
        prepared = self._prepared
        if prepared is not None and prepared.track is track and start == 0.0:
            self._prepared = None
            if (
                prepared.source is not None
                and time.monotonic() - prepared.source_started_at < PRESTARTED_MAX_AGE
            ):
                return prepared.source
            if prepared.source is not None:
                await self._discard(prepared.source)
            if _stream_is_fresh(prepared):
                return await self._spawn(track, prepared.stream, start)
        stream = await self._resolver.stream(track)
        return await self._spawn(track, stream, start)

    def _after_callback(self, deck: Deck, finished: asyncio.Event) -> Callable[[Exception | None], None]:
        loop = self._loop

        def after(error: Exception | None) -> None:
            # discord's player thread, after its last frame: hand over to the loop and return at once.
            if loop.is_closed():
                return
            coro = self._source_ended(deck, finished, error)
            try:
                asyncio.run_coroutine_threadsafe(coro, loop)
            except RuntimeError:
                coro.close()
                log.debug("guild %s: loop gone, dropping the end of a track", self.guild_id)

        return after

    def _switch_callback(self) -> Callable[[TimedAudio, TimedAudio, Track], None]:
        loop = self._loop

        def switched(ended: TimedAudio, source: TimedAudio, track: Track) -> None:
            # discord's player thread, inside Deck.read(): schedule and return at once.
            with contextlib.suppress(RuntimeError):  # the loop is gone: nothing left to update
                loop.call_soon_threadsafe(self._handed_over, ended, source, track)

        return switched

    def _ended_cleanly(self, source: TimedAudio) -> bool:
        """For the deck, on discord's thread: did ``source`` finish, so the armed next may follow?"""
        track = self._current
        if track is None or source is not self._source or source.error is not None or source.limit_reached:
            return False  # (a capped track ends the voice play, so _source_ended reports the cap)
        return not self._broke_off(track, source)

    def _handed_over(self, ended: TimedAudio, source: TimedAudio, track: Track) -> None:
        """The deck went on from the finished track to ``track`` without a gap: catch up with it.

        The same bookkeeping as a FINISHED end followed by starting the next track, except that
        the next source is already playing.
        """
        deck = self._deck
        if self._closed or deck is None or deck.source is not source:
            return  # stopped meanwhile: the deck's cleanup took ``source`` with it
        previous = self._current
        self._generation += 1
        self._cancel_track_tasks()
        self._cleanup_later(ended)
        if previous is not None:
            self._emit_track_ended(previous, EndReason.FINISHED, None)
            if self._loop_mode is LoopMode.QUEUE and track is not previous:
                try:
                    self.queue.add(previous)
                except LimitReached:
                    log.info("guild %s: queue full, %r not looped", self.guild_id, previous.title)
        # The armed track was the front of the queue, or the current track played again.
        if self.queue.peek() is track:
            self.queue.pop_next()
        elif track is not previous:
            self.queue.discard(track)
        self._current = track
        self._source = source
        source.play_limit = self._play_limit(track, source.stream)  # it may have been measured since
        self._recoveries = 0
        self._resume_at = None
        self._pause_pending = False
        self._now_playing(track, source, self._generation, start=0.0, resumed=False)

    def _arm_prepared(self) -> None:
        """Give the deck the pre-started next source, so the current track's end flows into it."""
        deck, prepared = self._deck, self._prepared
        if deck is None or prepared is None or prepared.source is None or deck.source is not self._source:
            return  # (a deck already on another source has a hand-over on its way to the loop)
        if deck.armed_track is not None or prepared.track is not self._next_candidate():
            return
        self._prepared = None
        deck.arm(
            prepared.source, prepared.track, started_at=prepared.source_started_at, max_age=PRESTARTED_MAX_AGE
        )
        log.debug(
            "guild %s: armed %r (ffmpeg pid %s)", self.guild_id, prepared.track.title, prepared.source.pid
        )

    def _disarm(self) -> None:
        """The armed next track is no longer next (queue edit, loop mode, seek back): kill its ffmpeg."""
        deck = self._deck
        if deck is None:
            return
        source = deck.disarm()
        if source is not None:
            self._cleanup_later(source)

    async def _source_ended(self, deck: Deck, finished: asyncio.Event, error: Exception | None) -> None:
        finished.set()  # discord's thread has sent its last frame (after() comes after it)
        if deck is not self._deck or self._current is None or self._closed:
            return  # a stop, skip, replace or restart already dealt with that source
        track = self._current
        source = self._source
        if error is None and source is not None:
            error = source.error  # discord misses it behind the volume wrapper
        position = source.position if source is not None else None
        broke_off = source is not None and self._broke_off(track, source)
        self._generation += 1
        self._drop_current_source()
        if error is None and source is not None and source.limit_reached and source.play_limit is not None:
            self._end_at_limit(track, source.play_limit, live=source.stream.is_live)
            return
        if broke_off and position is not None:
            voice = self.voice
            if voice is None or not voice.is_connected():
                # discord's player gave up waiting for the voice reconnect; the audio itself is fine.
                log.info(
                    "guild %s: %r cut off by a voice drop at %.1f s", self.guild_id, track.title, position
                )
                self._resume_at = position
                self._spawn_task(
                    self._resume_after_reconnect(track, self._generation, position),
                    name=f"reconnect-wait-{self.guild_id}",
                )
                return
            if self._recoveries < self.recovery_attempts:
                self._recoveries += 1
                self._resume_at = position
                log.warning(
                    "guild %s: %r broke off at %.1f s of %.1f s (%s); restart %d of %d on a fresh stream",
                    self.guild_id, track.title, position, track.duration, error or "early end",
                    self._recoveries, self.recovery_attempts,
                )  # fmt: skip
                self._spawn_task(
                    self._start(track, self._generation, start=position, resumed=True),
                    name=f"recover-{self.guild_id}",
                )
                return
            log.warning("guild %s: %r broke off again; giving up on it", self.guild_id, track.title)
            failure = PlayerError(
                "The stream kept breaking off, so I skipped it.",
                detail=f"broke off at {position:.1f} s after {self._recoveries} restarts: {error or 'early end'}",
            )
            if error is not None:
                failure.__cause__ = error
            self._track_over(track, EndReason.FAILED, failure)
            return
        if error is not None:
            log.warning("guild %s: %r ended with an error: %s", self.guild_id, track.title, error)
            self._track_over(track, EndReason.FAILED, _playback_error(error))
        else:
            self._track_over(track, EndReason.FINISHED, None)

    def _play_limit(self, track: Track, stream: Stream) -> float | None:
        """Where a source of ``track`` must stop: only a track with no end of its own has a cap."""
        if stream.is_live:
            return self.max_live_duration
        if track.duration is None:
            return self.max_unknown_duration
        return None

    def _end_at_limit(self, track: Track, limit: float, *, live: bool) -> None:
        """The current source is gone already; report the cap and go on with the queue."""
        log.info(
            "guild %s: %r stopped at its %s cap of %.1f s",
            self.guild_id, track.title, "live stream" if live else "unknown length", limit,
        )  # fmt: skip
        self._track_over(track, EndReason.TIME_LIMIT, PlayLimitReached(limit, live=live))

    def _broke_off(self, track: Track, source: TimedAudio) -> bool:
        """Did this source end well before the track's end, after the track had been playing?

        A source that never gave a frame on its first try (404, refused, timeout) is a plain
        failure, not a break: retrying it would only repeat the wait.
        """
        if track.duration is None or source.stream.is_live:
            return False
        if source.frames_read == 0 and self._recoveries == 0 and source.start == 0.0:
            return False
        return source.position < track.duration - self.end_tolerance

    async def _resume_after_reconnect(self, track: Track, generation: int, position: float) -> None:
        """Wait for the voice connection to come back, then go on where the track was cut off."""
        deadline = self._loop.time() + self.reconnect_wait
        while generation == self._generation and not self._closed:
            voice = self.voice
            if voice is None:
                return  # detached meanwhile: the voice cog has dealt with it
            if voice.is_connected():
                log.info(
                    "guild %s: voice is back, resuming %r at %.1f s", self.guild_id, track.title, position
                )
                await self._start(track, generation, start=position, resumed=True)
                return
            if self._loop.time() >= deadline:
                break
            await asyncio.sleep(0.1)  # VoiceTarget offers no async "connected" event
        if generation == self._generation and not self._closed:
            log.info("guild %s: voice did not come back; detaching", self.guild_id)
            await self.detach()

    async def _watch_stall(self, generation: int) -> None:
        """Kill a source whose position stopped moving while it should be playing (a stuck ffmpeg)."""
        watched: TimedAudio | None = None
        last_position = -1.0
        last_move = self._loop.time()
        while True:
            await asyncio.sleep(self.stall_timeout / 4)
            if generation != self._generation or self._closed:
                return
            source, voice = self._source, self.voice
            if source is None or voice is None:
                return
            now = self._loop.time()
            moving = source is not watched or source.position != last_position
            waiting = not voice.is_connected() or voice.is_paused() or not voice.is_playing()
            if moving or waiting:
                watched, last_position, last_move = source, source.position, now
                continue
            if now - last_move >= self.stall_timeout:
                log.warning(
                    "guild %s: no progress for %.0f s at %.1f s; killing ffmpeg pid %s",
                    self.guild_id, now - last_move, source.position, source.pid,
                )  # fmt: skip
                await asyncio.to_thread(source.abort)
                return

    def _track_over(self, track: Track, reason: EndReason, error: Exception | None) -> None:
        """Tell listeners and pull the next track into the buffer (the loop modes live here)."""
        self._emit_track_ended(track, reason, error)
        self._current = None
        self._generation += 1
        nxt: Track | None = None
        if reason is EndReason.FINISHED and self._loop_mode is LoopMode.TRACK:
            nxt = track
        elif reason.may_start_next:
            if self._loop_mode is LoopMode.QUEUE and reason in (EndReason.FINISHED, EndReason.SKIPPED):
                try:
                    self.queue.add(track)
                except LimitReached:
                    log.info("guild %s: queue full, %r not looped", self.guild_id, track.title)
            nxt = self.queue.pop_next()
        if nxt is not None and not self._closed:
            self._buffer = nxt
        else:
            self._emit_state_changed()

    # -- commands --------------------------------------------------------------------------

    async def enqueue(self, tracks: Sequence[Track], *, next_up: bool = False) -> int:
        """Queue ``tracks`` (all or none) and start playing if idle.

        Returns the queue position of the first track, or 0 when it started playing at once.
        """
        self._ensure_open()
        first = self.queue.extend(tracks, front=next_up)
        if first and self.start():
            return 0 if first == 1 else first - 1
        return first

    def update_track(self, old: Track, new: Track) -> bool:
        """Swap in ``new`` wherever this very ``old`` object is: playing, prepared or queued.

        For details that arrive after a track was queued (a direct file's duration is measured
        while it already starts). Playback is not touched; False when ``old`` is nowhere here.
        """
        found = False
        if self._current is old:
            self._current = new
            found = True
            if self._source is not None:  # a measured length lifts the unknown-length cap
                self._source.play_limit = self._play_limit(new, self._source.stream)
            self._arm_prestart(self._generation)  # a duration makes the pre-start possible
        prepared = self._prepared
        if prepared is not None and prepared.track is old:
            prepared.track = new
        if self._deck is not None:
            self._deck.retitle_armed(old, new)
        if self._held is not None and self._held[0] is old:
            self._held = (new, self._held[1])
        # The queue's on_change re-checks the prefetch and tells the listeners.
        if self.queue.replace(old, new):
            return True
        if found:
            self._emit_state_changed()
        return found

    def start(self, *, position: float = 0.0) -> bool:
        """Start the queue if nothing is in the buffer and voice is connected; True if started.

        For the voice cog after (re)connecting and for restoring a saved state (``position`` is
        where the first track starts); :meth:`enqueue` calls it too.
        """
        if self._closed or self._current is not None or not self.queue:
            return False
        if self.voice is None or not self.voice.is_connected():
            return False
        held, self._held = self._held, None
        if held is not None and position == 0.0 and self.queue.peek() is held[0]:
            position = held[1]  # the track detach() interrupted continues where it was
        self._load(self.queue.pop_next(), position=max(0.0, position))
        return True

    async def skip(self) -> Track | None:
        """End the current track (SKIPPED) and go on; returns the skipped track."""
        track = self._current
        if track is None:
            return None
        self._generation += 1
        self._drop_current_source()
        self._track_over(track, EndReason.SKIPPED, None)
        return track

    async def stop(self) -> None:
        """Stop playback, empty the queue and the buffer, kill ffmpeg."""
        track = self._current
        self.queue.clear()
        self._generation += 1
        self._current = None
        self._drop_current_source()
        await self._discard_prepared()
        if track is not None:
            self._emit_track_ended(track, EndReason.STOPPED, None)
        self._emit_state_changed()

    async def detach(self) -> None:
        """The voice connection is gone or going: stop playing but keep the queue.

        The interrupted track goes back to the front of the queue and :meth:`start` continues it
        from where it was; its end is reported as STOPPED, ffmpeg is killed and ``voice`` is
        cleared. After a new connection, set ``voice`` and call :meth:`start`.
        """
        track = self._current
        position = self.position
        self._generation += 1
        self._current = None
        self._drop_current_source()
        await self._discard_prepared()
        self.voice = None
        if track is not None:
            self._emit_track_ended(track, EndReason.STOPPED, None)
            try:
                self.queue.add_next(track)
            except LimitReached:
                log.info("guild %s: queue full, %r not kept", self.guild_id, track.title)
            else:
                self._held = (track, position or 0.0)
        self._emit_state_changed()

    def pause(self) -> None:
        if self._restarting():
            self._pause_pending = True  # the restarted source starts paused
            self._emit_state_changed()
            return
        voice = self._require_playing()
        voice.pause()
        self._emit_state_changed()

    def resume(self) -> None:
        if self._restarting():
            self._pause_pending = False
            self._emit_state_changed()
            return
        voice = self._require_playing()
        voice.resume()
        self._emit_state_changed()

    async def seek(self, seconds: float) -> None:
        """Jump to ``seconds`` into the current track; past its end goes to the next, < 0 is 0."""
        async with self._seek_lock:
            track = self._current
            source = self._source
            voice = self.voice
            if track is None or source is None or voice is None:
                raise PlayerError("Nothing is playing.")
            if source.stream.is_live:
                raise PlayerError("You can't seek in a live stream.")
            if not math.isfinite(seconds):
                raise PlayerError("That is not a time I can seek to.")
            target = max(0.0, float(seconds))
            if track.duration is not None and target >= track.duration:
                await self.skip()
                return
            limit = self._play_limit(track, source.stream)
            if limit is not None and target >= limit:
                self._generation += 1
                self._drop_current_source()
                self._end_at_limit(track, limit, live=source.stream.is_live)
                return
            generation = self._generation
            stream = source.stream
            if stream.expires_at is not None and time.time() > stream.expires_at - STREAM_EXPIRY_MARGIN:
                stream = await self._resolver.stream(track)
            new_source = await self._spawn(track, stream, target)
            if generation != self._generation or self._source is not source:
                await self._discard(new_source)
                return
            deck = self._deck
            # A paused voice client stays paused: the deck swaps under it.
            if deck is None or not deck.swap(new_source, expected=source):
                await self._discard(new_source)  # the track ended meanwhile
                return
            self._source = new_source
            await self._retire(source)  # discord's thread may be inside its read(): it gets silence
            self._after_seek(generation)
            log.info("guild %s: seeked %r to %.3f s", self.guild_id, track.title, target)
            self._emit_state_changed()

    def _after_seek(self, generation: int) -> None:
        """A seek back from near the end: the pre-started next ffmpeg would idle for minutes."""
        prepared = self._prepared
        if not self._near_end():
            if prepared is not None and prepared.source is not None:
                source, prepared.source = prepared.source, None
                self._cleanup_later(source)
            self._disarm()
        self._arm_prestart(generation)

    async def rewind(self, seconds: float) -> None:
        position = self._require_position()
        await self.seek(position - seconds)

    async def forward(self, seconds: float) -> None:
        position = self._require_position()
        await self.seek(position + seconds)

    def set_volume(self, percent: int) -> None:
        """Change the volume live (0-200 %), without restarting ffmpeg."""
        if not 0 <= percent <= MAX_VOLUME:
            raise PlayerError(f"Volume must be between 0 and {MAX_VOLUME}.")
        self._volume = int(percent)
        if self._volume_source is not None:
            self._volume_source.volume = self._volume / 100
        self._emit_state_changed()

    def set_loop(self, mode: LoopMode) -> None:
        self._loop_mode = LoopMode(mode)
        self._refresh_prepared()
        self._emit_state_changed()

    async def close(self) -> None:
        """Stop playing, kill every ffmpeg, cancel tasks; quietly.

        Listeners get the events that were already pending and nothing new: the queue, ``current``
        and ``position`` stay as they were (readable after close), so a shutdown is not mistaken
        for the user emptying the queue by whatever persists player state.
        """
        if self._closed:
            return
        self._closed = True
        self._generation += 1
        voice = self.voice
        if voice is not None and (voice.is_playing() or voice.is_paused()):
            voice.stop()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, *self._cleanups, return_exceptions=True)
        with self._sources_lock:
            leftovers = list(self._live_sources)
            self._live_sources.clear()
        for source in leftovers:
            await asyncio.to_thread(source.cleanup)
        if self._event_task is not None:
            self._events.put_nowait(None)
            try:
                await asyncio.wait_for(asyncio.shield(self._event_task), timeout=5)
            except TimeoutError:
                self._event_task.cancel()
        self.queue.on_change = None
        log.debug("guild %s: player closed", self.guild_id)

    # -- prefetch and pre-start ------------------------------------------------------------

    def _next_candidate(self) -> Track | None:
        """The track that will play after the current one, if nothing changes."""
        current = self._current
        if current is not None and self._loop_mode is LoopMode.TRACK:
            return current
        nxt = self.queue.peek()
        if nxt is None and current is not None and self._loop_mode is LoopMode.QUEUE:
            return current
        return nxt

    def _refresh_prepared(self) -> None:
        """Drop a prepared track that is no longer next and fetch the one that is."""
        if self._closed or self._current is None:
            return
        deck = self._deck
        if deck is not None and deck.source is not self._source:
            return  # the deck handed over; _handed_over() is on its way and refreshes after it
        candidate = self._next_candidate()
        armed = deck.armed_track if deck is not None else None
        if armed is not None and armed is candidate:
            return
        if armed is not None:
            self._disarm()
        prepared = self._prepared
        if prepared is not None and prepared.track is self._current and self._source is None:
            return  # the track that is starting right now is about to take it
        if prepared is not None and prepared.track is not candidate:
            self._prepared = None
            if prepared.source is not None:
                self._cleanup_later(prepared.source)
            prepared = None
        if candidate is not None and prepared is None and self._preparing is not candidate:
            self._preparing = candidate
            self._prepare_task = self._spawn_task(
                self._prepare(candidate, with_source=self._near_end()), name=f"prefetch-{self.guild_id}"
            )

    def _near_end(self) -> bool:
        track, source = self._current, self._source
        if track is None or source is None or track.duration is None:
            return False
        return track.duration - source.position <= self._prestart_lead

    async def _prepare(self, track: Track, *, with_source: bool) -> None:
        self._preparing = track  # also set by the caller, before this task first runs
        try:
            prepared = self._prepared
            if prepared is None or prepared.track is not track or not _stream_is_fresh(prepared):
                stream = await self._resolver.stream(track)
                if prepared is not None and prepared.track is track and prepared.source is not None:
                    await self._discard(prepared.source)
                prepared = _Prepared(track, stream)
            if with_source and prepared.source is None:
                prepared.source = await self._spawn(track, prepared.stream, 0.0)
                prepared.source_started_at = time.monotonic()
        except BrentError as exc:
            # Not fatal: the track is resolved again when its turn comes, and fails then.
            log.info("guild %s: prefetch of %r failed: %s", self.guild_id, track.title, exc)
            return
        except Exception:
            log.exception("guild %s: prefetch of %r failed", self.guild_id, track.title)
            return
        finally:
            if self._preparing is track:
                self._preparing = None
        wanted = self._next_candidate() is track or self._opening is track
        if self._closed or not wanted:
            if prepared.source is not None:
                await self._discard(prepared.source)
            return
        old = self._prepared
        self._prepared = prepared
        if old is not None and old is not prepared and old.source is not None:
            await self._discard(old.source)
        log.debug(
            "guild %s: prepared %r (ffmpeg started: %s)",
            self.guild_id,
            track.title,
            prepared.source is not None,
        )
        self._arm_prepared()

    async def _prestart_near_end(self, generation: int) -> None:
        """Start the next ffmpeg a few seconds before this track ends, so the gap is tiny."""
        while generation == self._generation:
            track, source = self._current, self._source
            if track is None or source is None or track.duration is None:
                return
            remaining = track.duration - source.position
            if remaining <= self._prestart_lead:
                break
            await asyncio.sleep(min(remaining - self._prestart_lead, 5.0))
        if generation != self._generation:
            return
        candidate = self._next_candidate()
        if candidate is None:
            return
        if self._running_for(candidate):
            return
        task = self._prepare_task
        if self._preparing is candidate and task is not None and not task.done():
            await asyncio.shield(task)  # a stream-only prefetch is running; add the process after it
            if self._running_for(candidate):
                return
        if generation != self._generation or self._next_candidate() is not candidate:
            return
        self._preparing = candidate
        self._prepare_task = self._spawn_task(
            self._prepare(candidate, with_source=True), name=f"prestart-{self.guild_id}"
        )

    def _running_for(self, track: Track) -> bool:
        """Is an ffmpeg for ``track`` already started (prepared, or armed in the deck)?"""
        prepared, deck = self._prepared, self._deck
        if prepared is not None and prepared.track is track and prepared.source is not None:
            return True
        return deck is not None and deck.armed_track is track

    async def _checkpoints(self, generation: int) -> None:
        while True:
            await asyncio.sleep(self._checkpoint_interval)
            if generation != self._generation or self._closed:
                return
            if not self.is_paused:
                self._emit_state_changed()

    async def _discard_prepared(self) -> None:
        prepared, self._prepared = self._prepared, None
        if prepared is not None and prepared.source is not None:
            await self._discard(prepared.source)

    # -- ffmpeg processes ------------------------------------------------------------------

    async def _spawn(self, track: Track, stream: Stream, start: float) -> TimedAudio:
        return await asyncio.to_thread(self._spawn_blocking, stream, start, self._play_limit(track, stream))

    def _spawn_blocking(self, stream: Stream, start: float, play_limit: float | None) -> TimedAudio:
        try:
            source = TimedAudio(
                stream,
                start=start,
                executable=self._ffmpeg,
                stderr=self._ffmpeg_stderr,
                rw_timeout=self.rw_timeout,
                standby=self._standby,
                env=self._ffmpeg_env,
                play_limit=play_limit,
            )
        except discord.ClientException as exc:
            raise _playback_error(exc) from exc
        with self._sources_lock:
            if not self._closed:
                self._live_sources.add(source)
                return source
        # close() ran while this process was starting: nobody will ever play it.
        source.cleanup()
        raise PlayerError("The player was closed.")

    async def _discard(self, source: TimedAudio) -> None:
        await asyncio.to_thread(self._cleanup_blocking, source, retire=False)

    async def _retire(self, source: TimedAudio) -> None:
        await asyncio.to_thread(self._cleanup_blocking, source, retire=True)

    def _cleanup_blocking(self, source: TimedAudio, *, retire: bool) -> None:
        if retire:
            source.retire()
        else:
            source.cleanup()
        with self._sources_lock:
            self._live_sources.discard(source)

    def _drop_current_source(self) -> None:
        """Stop the voice player and kill the current ffmpeg (in a worker thread)."""
        self._cancel_track_tasks()
        self._disarm()
        deck, source = self._deck, self._source
        self._deck = self._source = self._volume_source = None
        voice = self.voice
        if voice is not None and (voice.is_playing() or voice.is_paused()):
            voice.stop()
        # The deck may already be on the next track (a hand-over the loop has not seen yet).
        for leftover in {source, deck.source if deck is not None else None}:
            if leftover is not None:
                self._cleanup_later(leftover)

    def _cleanup_later(self, source: TimedAudio) -> None:
        self._track_cleanup(self._discard(source))

    def _track_cleanup(self, coro: Coroutine[Any, Any, None]) -> None:
        task = self._loop.create_task(coro, name="ffmpeg-cleanup")
        task.add_done_callback(_log_failure)
        self._cleanups.add(task)
        task.add_done_callback(self._cleanups.discard)

    # -- events ----------------------------------------------------------------------------

    def _queue_changed(self) -> None:
        # Runs wherever the queue was touched; the rest happens on the loop.
        self._loop.call_soon_threadsafe(self._after_queue_change)

    def _after_queue_change(self) -> None:
        if self._closed:
            return
        self._refresh_prepared()
        self._emit_state_changed()

    def _emit_track_ended(self, track: Track, reason: EndReason, error: Exception | None) -> None:
        self._emit("track_ended", track, reason, error)

    def _emit_state_changed(self) -> None:
        self._emit("state_changed")

    def _emit(self, name: str, *args: Any) -> None:
        if not self._listeners or self._closed:
            return
        listeners = tuple(self._listeners)

        async def deliver() -> None:
            for listener in listeners:
                method = getattr(listener, name, None)
                if method is None:
                    continue
                try:
                    result = method(self, *args)
                    if inspect.isawaitable(result):
                        await result
                except Exception:
                    log.exception("guild %s: listener %r failed in %s", self.guild_id, listener, name)

        self._events.put_nowait(deliver)
        if self._event_task is None or self._event_task.done():
            self._event_task = self._loop.create_task(
                self._deliver_events(), name=f"player-events-{self.guild_id}"
            )

    async def _deliver_events(self) -> None:
        while True:
            deliver = await self._events.get()
            if deliver is None:
                return
            await deliver()

    # -- helpers ---------------------------------------------------------------------------

    def _spawn_task(self, coro: Coroutine[Any, Any, None], *, name: str) -> asyncio.Task[None]:
        task = self._loop.create_task(coro, name=name)
        task.add_done_callback(_log_failure)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _restarting(self) -> bool:
        """A track cut off mid-way is waiting for its restart (fresh stream or voice reconnect)."""
        return self._current is not None and self._source is None and self._resume_at is not None

    def _ensure_open(self) -> None:
        if self._closed:
            raise PlayerError("The player was closed.")

    def _require_playing(self) -> VoiceTarget:
        if self._current is None or self._source is None or self.voice is None:
            raise PlayerError("Nothing is playing.")
        return self.voice

    def _require_position(self) -> float:
        position = self.position
        if position is None:
            raise PlayerError("Nothing is playing.")
        return position


def _stream_is_fresh(prepared: _Prepared) -> bool:
    if time.monotonic() - prepared.fetched_at > STREAM_MAX_AGE:
        return False
    expires = prepared.stream.expires_at
    return expires is None or time.time() < expires - STREAM_EXPIRY_MARGIN


def _playback_error(exc: BaseException) -> BrentError:
    """Wrap a non-domain failure (ffmpeg exit, voice error) so listeners can show user_message."""
    if isinstance(exc, BrentError):
        return exc
    error = PlayerError("That track could not be played.", detail=f"{type(exc).__name__}: {exc}")
    error.__cause__ = exc
    return error


def _log_failure(task: asyncio.Task[Any]) -> None:
    """A done-callback rather than a wrapper coroutine: a task cancelled before it ran then closes
    its own coroutine instead of leaving one that was "never awaited"."""
    if not task.cancelled() and (exc := task.exception()) is not None:
        log.error("player task %s failed", task.get_name(), exc_info=exc)
