"""What feeds one GuildPlayer's voice connection: its ffmpeg processes and the voice play they go to.

Spawning and reaping a process block, so both run in worker threads; the voice clock's thread only
ever schedules work on the loop. Every process is counted from the moment it exists until it is
cleaned up, so ``close()`` kills whatever is left, even one that was still starting at the time.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import discord

from audio.deck import Deck, DeckVolume
from audio.errors import BrentError, PlayerError
from audio.filters import NO_FILTERS, Filters
from audio.options import PlayerOptions
from audio.timed_audio import TimedAudio
from audio.timed_opus import TimedOpus
from audio.track import Stream, Track

log = logging.getLogger(__name__)

# discord.py's Opus encoder settings. In-band FEC doubles the encoder's CPU per stream and takes
# bits from the music (measured: 16.6 vs 8.4 ms CPU per second of audio, 113 vs 131 kbit/s); its
# redundancy only exists in the SILK/hybrid modes speech uses, not in the CELT mode of music.
VOICE_ENCODER_OPTIONS: dict[str, Any] = {"fec": False}
PREVIOUS_PLAY_WAIT = 1.0  # at most this long for a stopped voice play to send its last frames
STREAM_EXPIRY_MARGIN = 120.0  # a stream URL this close to the provider's expiry is fetched again


class VoiceTarget(Protocol):
    """What a GuildPlayer uses of :class:`discord.VoiceClient`."""

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


@dataclass(frozen=True, slots=True)
class PlayHooks:
    """How a voice play reports back to its player."""

    ended_cleanly: Callable[[TimedAudio], bool]  # the deck asks, on the voice thread, before a hand-over
    on_switch: Callable[[TimedAudio, TimedAudio, Track], None]  # (ended, next, its track), on the loop
    on_end: Callable[[Deck, Exception | None], None]  # the voice play is over, on the loop
    on_cue: Callable[[TimedAudio, TimedAudio], None]  # (replaced, cued): a cued source took over, on the loop


def call_on_loop(loop: asyncio.AbstractEventLoop, callback: Callable[..., None], *args: Any) -> None:
    """The one way from another thread (the voice clock, a queue's caller) onto the loop.

    Schedules and returns at once, so the voice clock never waits on the loop; a loop that is
    already gone has nothing left to update.
    """
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(callback, *args)


def expiring(stream: Stream) -> bool:
    """Will the provider's expiry fall due before a source started now is done with the URL?"""
    return stream.expires_at is not None and time.time() > stream.expires_at - STREAM_EXPIRY_MARGIN


def playback_error(exc: BaseException) -> BrentError:
    """Wrap a non-domain failure (ffmpeg exit, voice error) so subscribers can show its user_message."""
    if isinstance(exc, BrentError):
        return exc
    error = PlayerError("That track could not be played.", detail=f"{type(exc).__name__}: {exc}")
    error.__cause__ = exc
    return error


def log_failure(task: asyncio.Task[Any]) -> None:
    """A done-callback rather than a wrapper coroutine: a task cancelled before it ran then closes
    its own coroutine instead of leaving one that was "never awaited"."""
    if not task.cancelled() and (exc := task.exception()) is not None:
        log.error("player task %s failed", task.get_name(), exc_info=exc)


class Tasks:
    """A player's background tasks: cancelled together at close, each failure logged."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.closed = False
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Coroutine[Any, Any, None], *, name: str) -> asyncio.Task[None]:
        task = self.loop.create_task(coro, name=name)
        task.add_done_callback(log_failure)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def __iter__(self) -> Iterator[asyncio.Task[Any]]:
        return iter(list(self._tasks))

    async def close(self) -> None:
        self.closed = True
        for task in self:
            task.cancel()
        await asyncio.gather(*self, return_exceptions=True)


class Sources:
    """Spawns a player's TimedAudio sources with its options and accounts for each until it is gone.

    ``filters`` are the player's effects: every source spawned from then on has them (the current
    track's through a cue, the next one's when it is started). With none, at ``volume`` 100 and an
    Opus stream, a source copies the stream's packets (:class:`~audio.timed_opus.TimedOpus`).

    It also remembers when the last voice play it started was over: the next one waits for its
    closing silence, because a VoiceTarget with a thread per play (discord.py's AudioPlayer) would
    interleave the two (the shared voice clock keeps one connection's packets in order by itself).
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        options: PlayerOptions,
        resolver: StreamResolver,
        hooks: PlayHooks,
    ) -> None:
        self._loop = loop
        self._options = options
        self.resolver = resolver
        self._hooks = hooks
        self._lock = threading.Lock()  # _live is touched from worker threads
        self._live: set[TimedAudio] = set()
        self._cleanups: set[asyncio.Task[None]] = set()  # never cancelled: they kill ffmpeg
        self._closed = False
        self._last_play: asyncio.Event | None = None
        self.filters: Filters = NO_FILTERS
        self.volume = 100
        self._copy_refused: set[str] = set()  # page URLs whose Opus packets could not be copied

    def play_limit(self, track: Track, stream: Stream) -> float | None:
        """Where a source of ``track`` must stop: only a track with no end of its own has a cap."""
        if stream.is_live or track.live:
            return self._options.max_live_duration
        if track.duration is None:
            return self._options.max_unknown_duration
        return None

    async def fresh(self, track: Track, start: float) -> TimedAudio:
        """A source on a newly resolved stream (URLs expire; a broken one is not asked for again)."""
        return await self.spawn(track, await self.resolver.stream(track), start)

    def copies(self, track: Track, stream: Stream) -> bool:
        """Would a source of ``track`` started now copy the stream's Opus packets?"""
        return (
            self._options.opus_passthrough
            and stream.opus
            and self.volume == 100
            and not self.filters.active
            and track.page_url not in self._copy_refused
        )

    def fits(self, track: Track, source: TimedAudio) -> bool:
        """Is ``source`` what a source of ``track`` started now would be (effects, copy or not)?"""
        return source.filters == self.filters and isinstance(source, TimedOpus) == self.copies(track, source.stream)

    def refuse_copy(self, track: Track) -> None:
        """``track``'s packets turned out not to fit the 20 ms grid: from now on it plays as PCM."""
        self._copy_refused.add(track.page_url)

    async def spawn(self, track: Track, stream: Stream, start: float) -> TimedAudio:
        kind = TimedOpus if self.copies(track, stream) else TimedAudio
        return await asyncio.to_thread(self._spawn_blocking, kind, stream, start, self.play_limit(track, stream))

    def _spawn_blocking(
        self, kind: type[TimedAudio], stream: Stream, start: float, play_limit: float | None
    ) -> TimedAudio:
        options = self._options
        try:
            source = kind(
                stream,
                start=start,
                executable=options.ffmpeg,
                stderr=options.ffmpeg_stderr,
                rw_timeout=options.rw_timeout,
                standby=options.standby,
                env=options.ffmpeg_env,
                play_limit=play_limit,
                filters=self.filters,
            )
        except discord.ClientException as exc:
            raise playback_error(exc) from exc
        with self._lock:
            if not self._closed:
                self._live.add(source)
                return source
        # close() ran while this process was starting: nobody will ever play it.
        source.cleanup()
        raise PlayerError("The player was closed.")

    async def discard(self, source: TimedAudio) -> None:
        await asyncio.to_thread(self._end_blocking, source, retire=False)

    async def retire(self, source: TimedAudio) -> None:
        """Like discard, but a read in progress on the voice thread gets silence instead of the end."""
        await asyncio.to_thread(self._end_blocking, source, retire=True)

    def _end_blocking(self, source: TimedAudio, *, retire: bool) -> None:
        if retire:
            source.retire()
        else:
            source.cleanup()
        with self._lock:
            self._live.discard(source)

    def discard_later(self, source: TimedAudio) -> None:
        """Discard without waiting; ``close()`` still waits for it."""
        task = self._loop.create_task(self.discard(source), name="ffmpeg-cleanup")
        task.add_done_callback(log_failure)
        self._cleanups.add(task)
        task.add_done_callback(self._cleanups.discard)

    def play(
        self, voice: VoiceTarget, source: TimedAudio, *, volume: int, paused: bool
    ) -> tuple[Deck, DeckVolume]:
        """Start a voice play of ``source`` in a deck of its own (see audio/deck.py)."""
        hooks, loop = self._hooks, self._loop
        on_switch = functools.partial(call_on_loop, loop, hooks.on_switch)
        on_cue = functools.partial(call_on_loop, loop, hooks.on_cue)
        deck = Deck(source, ended_cleanly=hooks.ended_cleanly, on_switch=on_switch, on_cue=on_cue)
        mixed = DeckVolume(deck, volume=volume / 100)
        done = asyncio.Event()

        def ended(error: Exception | None) -> None:
            done.set()  # the voice thread has sent its last frame (after() comes after it)
            hooks.on_end(deck, error)

        voice.play(mixed, after=functools.partial(call_on_loop, loop, ended), **VOICE_ENCODER_OPTIONS)
        if paused:
            voice.pause()
        self._last_play = done
        return deck, mixed

    async def previous_play_done(self) -> None:
        done = self._last_play
        if done is not None and not done.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), PREVIOUS_PLAY_WAIT)

    def shut(self) -> None:
        """From now on a process that finishes starting is killed at once instead of counted."""
        with self._lock:
            self._closed = True

    async def close(self) -> None:
        """Wait for the pending cleanups, then kill every process still counted."""
        self.shut()
        await asyncio.gather(*self._cleanups, return_exceptions=True)
        with self._lock:
            leftovers = list(self._live)
            self._live.clear()
        for source in leftovers:
            await asyncio.to_thread(source.cleanup)
