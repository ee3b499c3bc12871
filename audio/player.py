"""GuildPlayer: the commands of one guild's player (queue, skip, stop, pause, seek, volume, loop).

Every command acts through the observed buffer (:mod:`audio.buffer`): it changes the queue, ends
the turn in the buffer, or asks the turn for a seek; what plays next is decided there alone.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

from audio import recovery
from audio.buffer import MAX_VOLUME, ObservedBuffer, checked_volume
from audio.errors import PlayerError
from audio.events import EndReason, PlayLimitReached, StateChanged, TrackEnded
from audio.filters import Filters
from audio.loop_mode import LoopMode
from audio.sources import StreamResolver, VoiceTarget
from audio.track import Track
from audio.turn import Turn

__all__ = [
    "MAX_VOLUME",
    "EndReason",
    "GuildPlayer",
    "LoopMode",
    "PlayLimitReached",
    "StreamResolver",
    "VoiceTarget",
]

log = logging.getLogger(__name__)


class GuildPlayer(ObservedBuffer):
    """Plays one guild's queue into its voice connection (built as :class:`ObservedBuffer` is)."""

    def enqueue(self, tracks: Sequence[Track], *, next_up: bool = False, start_at: float = 0.0) -> int:
        """Queue ``tracks`` (all or none) and start playing if idle (``start_at`` seconds in).

        Returns the queue position of the first track, or 0 when it started playing at once.
        """
        if self.closed:
            raise PlayerError("The player was closed.")
        first = self.queue.extend(tracks, front=next_up)
        if first and self.start(position=start_at):
            return 0 if first == 1 else first - 1
        return first

    def update_track(self, old: Track, new: Track) -> bool:
        """Swap in ``new`` wherever this very ``old`` object is: playing, readied, held or queued.

        For details that arrive after a track was queued (a direct file's duration is measured
        while it already starts). Playback is not touched; False when ``old`` is nowhere here.
        """
        turn, found = self._turn, False
        if turn is not None and turn.track is old:
            turn.retitle(new, self._sources)
            found = True
        self._next.retitle(old, new)
        if self._held is not None and self._held[0] is old:
            self._held = (new, self._held[1])
        if self.queue.replace(old, new):
            return True  # its on_change re-checks the next track and tells subscribers
        if found:
            self._emit(StateChanged(self))
        return found

    def skip(self) -> Track | None:
        """End the current track (SKIPPED) and go on; returns the skipped track."""
        turn = self._turn
        if turn is None:
            return None
        self._drop(turn)
        self._advance(turn, EndReason.SKIPPED)
        return turn.track

    async def stop(self) -> None:
        """Stop playback, empty the queue and the buffer, kill ffmpeg."""
        turn, self._turn = self._turn, None
        self.queue.clear()
        self._drop(turn)
        await self._next.clear()
        if turn is not None:
            self._emit(TrackEnded(self, turn.track, EndReason.STOPPED))
        self._emit(StateChanged(self))

    async def seek(self, seconds: float) -> None:
        """Jump to ``seconds`` into the current track; past its end goes to the next, < 0 is 0."""
        turn = self._turn
        if turn is None:
            raise PlayerError("Nothing is playing.")
        async with turn.seek_lock:
            if turn is not self._turn:
                return await self.seek(seconds)  # the track changed while this seek waited its turn
            await self._seek(turn, seconds)

    async def _seek(self, turn: Turn, seconds: float) -> None:
        track, source = turn.track, turn.source
        if source is None or self.voice is None:
            raise PlayerError("Nothing is playing.")
        if source.stream.is_live or track.live:
            raise PlayerError("You can't seek in a live stream.")
        if not math.isfinite(seconds):
            raise PlayerError("That is not a time I can seek to.")
        target = max(0.0, float(seconds))
        limit = self._sources.play_limit(track, source.stream)
        if track.duration is not None and target >= track.duration:
            self.skip()
        elif limit is not None and target >= limit:
            recovery.log_cap(self.guild_id, track, cap := PlayLimitReached(limit, live=source.stream.is_live))
            self._drop(turn)
            self._advance(turn, EndReason.TIME_LIMIT, cap)
        elif await turn.seek_to(target, self._sources, still_current=lambda: self._is_current(turn)):
            remaining = turn.remaining()
            if remaining is None or remaining > self.options.prestart_lead:
                self._next.drop_ffmpeg()  # a seek back: a pre-started next ffmpeg would idle for minutes
            log.info("guild %s: seeked %r to %.3f s", self.guild_id, track.title, target)
            self._emit(StateChanged(self))

    async def rewind(self, seconds: float) -> None:
        await self.seek(self._require_position() - seconds)

    async def forward(self, seconds: float) -> None:
        await self.seek(self._require_position() + seconds)

    def set_volume(self, percent: int) -> None:
        """Change the volume live (0-200 %); a PCM source goes on as it is. Copied Opus packets
        only play at 100 %: going from or to 100 % changes the kind of source without a gap."""
        self._volume = checked_volume(percent)
        at_full = self._sources.volume == 100
        self._sources.volume = self._volume
        if self._turn is not None and self._turn.volume is not None:
            self._turn.volume.volume = self._volume / 100
        if at_full != (self._volume == 100):
            self._next.drop_ffmpeg()  # a pre-started next ffmpeg may be the wrong kind now
            self._refresh_next()
            if self._turn is not None and self._turn.source is not None:
                self._tasks.spawn(self._recue_now(), name=f"recue-{self.guild_id}")
        self._emit(StateChanged(self))

    async def set_filters(self, filters: Filters) -> bool:
        """Play with ``filters`` from now on: the current track within a moment and without a gap
        (audio/deck.py), every source after it from its start. True when the current track takes
        them now; False when nothing plays or it takes them no more (live, or about to end)."""
        if self._sources.filters != filters:
            self._sources.filters = filters
            self._next.drop_ffmpeg()  # a pre-started next ffmpeg has the old effects
            self._refresh_next()
            self._emit(StateChanged(self))
        return await self._recue()

    async def _recue_now(self) -> None:
        await self._recue()

    async def _recue(self) -> bool:
        """The current track goes over to a source as it would start now (see Turn.recue)."""
        turn = self._turn
        if turn is None:
            return False
        async with turn.seek_lock:
            if turn is not self._turn:
                return False
            return await turn.recue(self._sources, still_current=lambda: self._is_current(turn))

    def set_loop(self, mode: LoopMode) -> None:
        self._loop_mode = LoopMode(mode)
        self._refresh_next()
        self._emit(StateChanged(self))

    async def close(self) -> None:
        """Stop playing, kill every ffmpeg, cancel tasks; quietly.

        Subscribers get the events already pending and nothing new: the queue, ``current`` and
        ``position`` stay as they were (readable after close), so a shutdown is not mistaken for
        the user emptying the queue by whatever persists player state.
        """
        if self.closed:
            return
        self._tasks.closed = True
        self._sources.shut()
        if self.voice is not None and (self.voice.is_playing() or self.voice.is_paused()):
            self.voice.stop()
        await self._tasks.close()
        await self._sources.close()
        await self._events.close()
        self.queue.on_change = None
        log.debug("guild %s: player closed", self.guild_id)

    # -- helpers ---------------------------------------------------------------------------

    def _require_position(self) -> float:
        if (position := self.position) is None:
            raise PlayerError("Nothing is playing.")
        return position
