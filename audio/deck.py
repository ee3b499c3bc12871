"""The one AudioSource a voice connection plays while a guild's tracks follow each other.

discord.py's AudioPlayer thread ends when its source returns ``b""``; playing the next track then
means an ``after`` callback, a hop to the event loop and a new player thread, which costs at least
one 20 ms packet slot of silence. The Deck keeps one AudioPlayer running instead: when the current
TimedAudio ends cleanly and the next one is armed (its ffmpeg already running), the very same
``read()`` returns the next track's first frame, so the listener hears no gap at all. The player
learns about the switch afterwards, on its event loop, through ``on_switch``.

A seek swaps the current source the same way, without touching the voice client (whose own
source setter would un-pause a paused player). A change of effects *cues* a source started a little
ahead of the current position instead: the current one plays on until it reaches that position and
the cued one has a frame, then the same read() goes on with the cued one, so nothing is missed or
heard twice.
"""

from __future__ import annotations

import audioop  # discord.player's own (audioop-lts from Python 3.13 on)
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import discord

from audio.timed_audio import TimedAudio
from audio.track import Track

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Armed:
    source: TimedAudio
    track: Track
    started_at: float  # time.monotonic() of the ffmpeg start
    max_age: float  # an older process is not trusted to still hold its connection


class Deck(discord.AudioSource):
    """Plays ``source`` and then, gaplessly, whatever was armed by the time it ends.

    Parameters
    ----------
    source:
        The first track's running TimedAudio.
    ended_cleanly:
        Asked on discord's player thread when a source ends: only a track that finished (no
        ffmpeg error, not broken off early) hands over; anything else ends the AudioPlayer so the
        GuildPlayer's recovery sees it.
    on_switch:
        Called on discord's player thread right after a hand-over with (ended source, new source,
        new track); it must only schedule work on the loop, never block.
    on_cue:
        Called on discord's player thread when a cued source took over, with (replaced, cued);
        the same rule as ``on_switch``.
    """

    def __init__(
        self,
        source: TimedAudio,
        *,
        ended_cleanly: Callable[[TimedAudio], bool],
        on_switch: Callable[[TimedAudio, TimedAudio, Track], None],
        on_cue: Callable[[TimedAudio, TimedAudio], None] = lambda replaced, cued: None,
    ) -> None:
        self._lock = threading.Lock()
        self._source = source
        self._armed: _Armed | None = None
        self._cued: TimedAudio | None = None
        self._ended_cleanly = ended_cleanly
        self._on_switch = on_switch
        self._on_cue = on_cue
        self._opus = False  # the last frame read was an Opus packet (a TimedOpus source)

    @property
    def source(self) -> TimedAudio:
        return self._source

    @property
    def armed_track(self) -> Track | None:
        armed = self._armed
        return armed.track if armed is not None else None

    def frame_ready(self) -> bool:
        """See TimedAudio.frame_ready. When the current track is over, the hand-over happens here
        rather than in :meth:`read`, so a next track whose ffmpeg has no frame yet makes the voice
        clock skip a slot instead of blocking in a read."""
        source = self._current()
        if not source.frame_ready():
            return False
        if not source.at_end or source.read():  # the read takes its end (and ffmpeg's exit status)
            return True
        following = self._hand_over(source)
        return following is None or following.frame_ready()

    def read(self) -> bytes:
        source = self._current()
        data = source.read()
        if not data:
            following = self._hand_over(source)
            if following is None:
                return b""
            source, data = following, following.read()
        self._opus = source.is_opus()
        return data

    def is_opus(self) -> bool:
        """Is the frame :meth:`read` just returned an Opus packet? The voice client asks right
        after each read (discord's AudioPlayer and the ClockedPlayer alike), and then sends it
        without encoding; a deck goes from PCM to Opus sources and back between reads."""
        return self._opus

    def _current(self) -> TimedAudio:
        """The source to read now: the cued one, once the current one reached its start and it has
        a frame at the current position (its frames before it are dropped), else the current one."""
        source, cued = self._source, self._cued
        if cued is None or source.position + 1e-6 < cued.start or not cued.frame_ready():
            return source
        if not cued.catch_up(source.position) or not cued.frame_ready():
            return source  # the current one plays on meanwhile; the cued one catches up a pipe-full a time
        with self._lock:
            if self._source is not source or self._cued is not cued:
                return self._source
            self._source, self._cued = cued, None
        self._on_cue(source, cued)
        return cued

    def _hand_over(self, ended: TimedAudio) -> TimedAudio | None:
        """``ended`` gave its end: the source to go on with, or None to end the voice play."""
        with self._lock:
            if self._source is not ended:
                return self._source  # a seek swapped it just then
            armed = self._armed
            self._cued = None  # too late for new effects on this track; the player drops it
            if armed is None or not self._ended_cleanly(ended):
                return None
            self._armed = None
            stale = time.monotonic() - armed.started_at > armed.max_age
            if not stale:
                self._source = armed.source
        if stale:
            # Its connection may have been dropped while it waited; the player starts the track anew.
            log.debug("armed ffmpeg pid %s is too old to hand over to", armed.source.pid)
            # Killing and reaping it takes a moment; the voice clock serving every guild must not wait.
            threading.Thread(target=armed.source.cleanup, name="deck-cleanup", daemon=True).start()
            return None
        self._on_switch(ended, armed.source, armed.track)
        return armed.source

    def arm(
        self, source: TimedAudio, track: Track, *, started_at: float, max_age: float
    ) -> TimedAudio | None:
        """Make ``source`` the one to continue with; returns a previously armed source to clean up."""
        with self._lock:
            previous = self._armed
            self._armed = _Armed(source, track, started_at, max_age)
        return previous.source if previous is not None else None

    def disarm(self) -> TimedAudio | None:
        """Take the armed source back (for cleanup); None if nothing is armed or it already plays."""
        with self._lock:
            armed, self._armed = self._armed, None
        return armed.source if armed is not None else None

    def retitle_armed(self, old: Track, new: Track) -> None:
        """The armed track got better details (see GuildPlayer.update_track)."""
        with self._lock:
            armed = self._armed
            if armed is not None and armed.track is old:
                self._armed = _Armed(armed.source, new, armed.started_at, armed.max_age)

    def swap(self, new: TimedAudio, *, expected: TimedAudio) -> bool:
        """Replace the current source by ``new`` (a seek) if it is still ``expected``.

        False when the track ended and handed over meanwhile: ``new`` is then not used. A cued
        source must be taken back (:meth:`uncue`) first: it would go on from the old position.
        """
        with self._lock:
            if self._source is not expected:
                return False
            self._source = new
            return True

    def cue(self, new: TimedAudio, *, expected: TimedAudio) -> bool:
        """Go on with ``new`` once ``expected`` (still the current source) reaches ``new.start``.

        False when ``expected`` is not current any more or another source is cued (take it back
        with :meth:`uncue` first): ``new`` is then not used.
        """
        with self._lock:
            if self._source is not expected or self._cued is not None:
                return False
            self._cued = new
            return True

    def uncue(self) -> TimedAudio | None:
        """Take the cued source back (for cleanup); None if none is cued or it already plays."""
        with self._lock:
            cued, self._cued = self._cued, None
        return cued

    def cleanup(self) -> None:
        """discord's AudioPlayer is done with the deck: the current and any armed ffmpeg go too."""
        for spare in (self.disarm(), self.uncue()):
            if spare is not None:
                spare.cleanup()
        self._source.cleanup()


class DeckVolume(discord.PCMVolumeTransformer[Deck]):
    """The volume of a deck's PCM frames; its Opus frames pass untouched (they only play at 100 %)."""

    def is_opus(self) -> bool:
        return self.original.is_opus()

    def read(self) -> bytes:
        data = self.original.read()
        if not data or self.original.is_opus() or self.volume == 1.0:
            return data
        return audioop.mul(data, 2, min(self.volume, 2.0))
