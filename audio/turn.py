"""One stay of a track in a GuildPlayer's buffer: what it holds while it plays, and its one timer.

A turn begins when a track is placed in the buffer, handed over to by the deck, or restarted after
a break, and ends when the track leaves. The player keeps the current turn; every task and callback
keeps the turn it was made for and does nothing once that is not the current turn any more, so a
late ``after`` or a slow ffmpeg start can never act on the track that followed. The player decides
what happens to a turn; the turn does the mechanics (open, play, seek, time, release).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import math
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, field
from typing import Protocol

from audio.deck import Deck, DeckVolume
from audio.next_up import NextUp
from audio.options import PlayerOptions
from audio.recovery import StallWatch
from audio.sources import Sources, VoiceTarget, expiring
from audio.timed_audio import TimedAudio
from audio.track import Track

PRESTART_RECHECK = 5.0  # a pause stops the countdown to the pre-start: look again this often
# New effects start this many seconds (of output) after the command: the new ffmpeg starts that far
# ahead of the position and the deck goes over to it when the old one gets there (audio/deck.py).
CUE_LEAD = 0.5


class Output(Protocol):
    """Where a turn plays, read at the moment it starts playing (GuildPlayer is one)."""

    voice: VoiceTarget | None

    @property
    def volume(self) -> int: ...


class Begun(enum.Enum):
    PLAYING = "playing"
    STALE = "stale"  # another turn is current now; the source was thrown away
    NOT_CONNECTED = "not_connected"  # no voice connection to play into; the source was thrown away


class Due(enum.Enum):
    """What the timer of a playing track says is due now."""

    PRESTART = "prestart"  # start the next track's ffmpeg, the current one ends in a few seconds
    CHECKPOINT = "checkpoint"  # report the position, so a saved one stays recent
    STALL_CHECK = "stall_check"  # see whether the source still moves (Turn.stall)


@dataclass(eq=False)
class Turn:
    track: Track
    recoveries: int = 0  # restarts of this track so far
    resume_at: float | None = None  # a restart after a break goes on here (and this is its position)
    pause_pending: bool = False  # paused while restarting: the new source starts paused
    source: TimedAudio | None = None
    cued: TimedAudio | None = None  # with other effects, waiting in the deck to take over from source
    deck: Deck | None = None  # shared with the turns it handed over to
    volume: DeckVolume | None = None
    timer: asyncio.Task[None] | None = None
    stall: StallWatch | None = None  # None once the stall watch is over (or off)
    prestart: bool = True  # the next track's ffmpeg is still to be started near the end
    nudge: asyncio.Event = field(default_factory=asyncio.Event)  # the timer looks again at once
    seek_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def position(self) -> float | None:
        return self.source.position if self.source is not None else self.resume_at

    @property
    def restarting(self) -> bool:
        """Cut off mid-way and waiting for its restart (fresh stream or voice reconnect)."""
        return self.source is None and self.resume_at is not None

    @property
    def handed_over(self) -> bool:
        """The deck went on to the armed next track; the loop has not caught up yet."""
        if self.deck is None:
            return False
        playing = self.deck.source
        return playing is not self.source and playing is not self.cued

    def remaining(self) -> float | None:
        """Seconds left of the track, when both its length and a playing source are known."""
        if self.track.duration is None or self.source is None:
            return None
        return self.track.duration - self.source.position

    async def begin(
        self,
        start: float,
        output: Output,
        sources: Sources,
        next_up: NextUp,
        *,
        still_current: Callable[[], bool],
    ) -> Begun:
        """Open a source and start its voice play: what ``next_up`` readied, or after a break (a
        turn with ``resume_at``) a freshly resolved stream. A failure to open or play propagates."""
        resumed = self.restarting
        source = await (sources.fresh(self.track, start) if resumed else next_up.take(self.track, start))
        await sources.previous_play_done()
        voice = output.voice
        if not still_current() or voice is None or not voice.is_connected():
            begun = Begun.NOT_CONNECTED if still_current() else Begun.STALE
            await sources.discard(source)
            return begun
        source.play_limit = sources.play_limit(self.track, source.stream)  # measured meanwhile?
        try:
            self.deck, self.volume = sources.play(
                voice, source, volume=output.volume, paused=resumed and self.pause_pending
            )
        except Exception:
            await sources.discard(source)
            raise
        self.source, self.resume_at, self.pause_pending = source, None, False
        return Begun.PLAYING

    async def seek_to(self, target: float, sources: Sources, *, still_current: Callable[[], bool]) -> bool:
        """Swap a source started at ``target`` into the deck, under a paused voice client too.

        False when the track ended meanwhile (the new source is then killed as well).
        """
        source = self.source
        if source is None:
            return False
        stream = await sources.resolver.stream(self.track) if expiring(source.stream) else source.stream
        new = await sources.spawn(self.track, stream, target)
        deck = self.deck if still_current() and self.source is source else None
        if deck is not None:
            await self._drop_cue(sources)  # it would go on from the old position
        if deck is None or not deck.swap(new, expected=source):
            await sources.discard(new)
            return False
        self.source = new
        await sources.retire(source)  # the voice thread may be inside its read(): it gets silence
        self.rewatch()
        return True

    async def recue(self, sources: Sources, *, still_current: Callable[[], bool]) -> bool:
        """Cue a source as the sources would start it now (other effects; PCM instead of copied
        Opus or back), started :data:`CUE_LEAD` seconds of output ahead, so the deck goes over to
        it without a gap.

        False when nothing plays, the track is live or ends before the lead is over (the next
        track starts with the new effects anyway), or it ended meanwhile.
        """
        source, deck = self.source, self.deck
        if source is None or deck is None or source.stream.is_live:
            return False  # -ss cannot reach a position in a live stream: the effects wait for the next
        if sources.fits(self.track, source):
            await self._drop_cue(sources)  # back to what plays
            return True
        target = source.position + CUE_LEAD * source.filters.tempo
        if self.track.duration is not None and target >= self.track.duration - CUE_LEAD:
            return False
        stream = await sources.resolver.stream(self.track) if expiring(source.stream) else source.stream
        new = await sources.spawn(self.track, stream, target)
        if not still_current() or self.source is not source:
            await sources.discard(new)
            return False
        await self._drop_cue(sources)
        if not deck.cue(new, expected=source):
            await sources.discard(new)
            return False
        self.cued = new
        return True

    def cue_taken(self, replaced: TimedAudio, cued: TimedAudio) -> TimedAudio | None:
        """The deck went over to ``cued``; returns the source it replaced when that was this turn's."""
        if cued is not self.cued or replaced is not self.source:
            return None
        self.source, self.cued = cued, None
        return replaced

    async def _drop_cue(self, sources: Sources) -> None:
        cued, self.cued = self.cued, None
        if self.deck is not None:
            self.deck.uncue()
        if cued is not None:
            await sources.discard(cued)

    def retitle(self, track: Track, sources: Sources) -> None:
        """Better details for the track (a measured length lifts the unknown-length cap)."""
        self.track = track
        if self.source is not None:
            self.source.play_limit = sources.play_limit(track, self.source.stream)
        self.rewatch()  # a length makes the pre-start possible

    def rewatch(self) -> None:
        """The position jumped or the length became known: the pre-start is worked out again."""
        self.prestart = True
        self.nudge.set()

    def release(self, sources: Sources) -> None:
        """The track leaves the buffer: stop the timer and kill its ffmpeg (in the background)."""
        if self.timer is not None:
            self.timer.cancel()
        # The deck may already be on the next track (a hand-over the loop has not seen yet).
        for leftover in {self.source, self.cued, self.deck.source if self.deck is not None else None}:
            if leftover is not None:
                sources.discard_later(leftover)

    async def ticks(self, options: PlayerOptions) -> AsyncGenerator[Due, None]:
        """What falls due while the track plays, in time: one loop instead of a task per concern."""
        loop = asyncio.get_running_loop()
        checkpoint_at = loop.time() + options.checkpoint_interval
        self.stall = StallWatch(options.stall_timeout, loop.time()) if options.stall_timeout > 0 else None
        while True:
            now = loop.time()
            stall_at = self.stall.due if self.stall is not None else math.inf
            wake = min(checkpoint_at, stall_at, now + self._prestart_in(options.prestart_lead))
            self.nudge.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.nudge.wait(), None if math.isinf(wake) else max(0.0, wake - now))
            now = loop.time()
            if self._prestart_in(options.prestart_lead) == 0.0:
                self.prestart = False
                yield Due.PRESTART
            if now >= checkpoint_at:
                checkpoint_at = now + options.checkpoint_interval
                yield Due.CHECKPOINT
            if self.stall is not None and now >= self.stall.due:
                yield Due.STALL_CHECK

    def _prestart_in(self, lead: float) -> float:
        remaining = self.remaining()
        if not self.prestart or remaining is None:
            return math.inf
        return max(0.0, min(remaining - lead, PRESTART_RECHECK))
