"""TimedAudio's Opus sibling: the stream's own Opus packets go to Discord as they are.

Most of what BRENT plays is Opus already (YouTube's best audio is Opus in WebM), and decoding it to
PCM only to encode it to Opus again is most of a voice clock's work. When nothing is to be done to
the sound (volume 100 %, no filters) :class:`TimedOpus` has ffmpeg copy the packets into Ogg
(``-c:a copy``), takes them apart without blocking (:mod:`audio.ogg_opus`) and hands out one 20 ms
packet per read; :meth:`is_opus` tells the voice client to send it unencoded.

Everything else is TimedAudio's: the position (from the packets' own lengths), ``-ss`` seeks, the
play limit, the end and ffmpeg's exit status, frame_ready, abort, retire and cleanup. A packet that
is not 20 ms long cannot go out on the 20 ms grid: the source then ends with :class:`OpusFraming`,
and the player plays the track from there as PCM.
"""

from __future__ import annotations

import collections
import logging
from typing import Any

from discord.opus import OPUS_SILENCE

from audio.errors import PlayerError
from audio.ffmpeg_args import opus_copy_args
from audio.filters import NO_FILTERS, Filters
from audio.ogg_opus import OggError, OggPackets, opus_packet_samples
from audio.timed_audio import FRAME_SECONDS, TimedAudio
from audio.track import Stream

log = logging.getLogger(__name__)

PACKET_SAMPLES = int(48000 * FRAME_SECONDS)


class OpusFraming(PlayerError):
    """The stream's Opus packets are not 20 ms long; it has to be played as PCM."""


class TimedOpus(TimedAudio):
    """A TimedAudio whose frames are the stream's own 20 ms Opus packets (see the module docstring).

    Takes TimedAudio's parameters; ``filters`` must be none. A standby process is used when one
    waits with this class's output (``OPUS_OUTPUT``).
    """

    SILENCE = OPUS_SILENCE

    def __init__(
        self,
        stream: Stream,
        *,
        filters: Filters = NO_FILTERS,
        **options: Any,
    ) -> None:
        if filters.active:
            raise ValueError("Opus packets are copied as they are: no filters")
        self._ogg = OggPackets()
        self._packets: collections.deque[bytes] = collections.deque()
        super().__init__(stream, **options)

    def is_opus(self) -> bool:
        return True

    def _kind_for(self, filters: Filters) -> type[TimedAudio]:
        """With filters a re-made source is a PCM one."""
        return TimedAudio if filters.active else TimedOpus

    @property
    def framing_refused(self) -> bool:
        return isinstance(self.error, OpusFraming)

    def _output_args(self) -> list[str]:
        return opus_copy_args()

    def _frames_buffered(self) -> int:
        if self._pending and self.error is None:
            try:
                self._packets.extend(self._ogg.take(self._pending))
            except OggError as exc:
                self._refuse(PlayerError("That stream can't be played.", detail=f"ffmpeg's Ogg: {exc}"))
        return len(self._packets)

    def _pop_frame(self) -> bytes:
        packet = self._packets.popleft()
        if opus_packet_samples(packet) != PACKET_SAMPLES:
            self._refuse(OpusFraming("That stream can't be played.", detail="Opus packets not 20 ms long"))
            return self.SILENCE
        return packet

    def _refuse(self, error: PlayerError) -> None:
        """End the output here with ``error`` (what the player's recovery reads) and stop ffmpeg."""
        log.info("ffmpeg pid %s: %s", self.pid, error)
        self._current_error = error
        self._packets.clear()
        self._pending.clear()
        self._end_seen()
        self.abort()
