"""One voice connection's playback, driven by a shared :class:`~audio.voice_clock.VoiceClock`.

``ClockedPlayer`` keeps the interface ``VoiceClient`` expects of discord.py's ``AudioPlayer``
(pause, resume, stop, source swap, the ``after`` callback, five frames of silence at a pause or an
end), so the rest of the bot is unchanged; the clock calls :meth:`ClockedPlayer.send_due` when its
packet is due instead of a thread of its own sleeping for it.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import math
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import discord
from discord.enums import SpeakingState
from discord.opus import OPUS_SILENCE

from audio.clock_load import set_complexity

if TYPE_CHECKING:
    from discord.voice_client import VoiceClient

    from audio.voice_clock import VoiceClock

log = logging.getLogger(__name__)

FRAME = discord.opus.Encoder.FRAME_LENGTH / 1000.0
SILENCE_FRAMES = 5  # what discord's AudioPlayer sends at a pause or an end, so clients stop cleanly
START_POLL = 0.001  # how often a just-started source is asked again until its first frame is there
START_POLL_FOR = 1.0  # after that long without a frame it is a stall, checked once per grid tick
MAX_BEHIND = 0.2  # a guild further behind (the machine stalled) rejoins the grid instead of bursting


class _Step(enum.Enum):
    SEND = enum.auto()
    WAIT = enum.auto()  # paused, silence already sent, or waiting for a voice reconnect
    SILENCE = enum.auto()  # just paused: the closing silence goes out once
    FINISH = enum.auto()  # stopped or aborted: closing silence, then ``after`` and cleanup


def _frame_ready(source: discord.AudioSource) -> bool:
    """Ask the innermost source (TimedAudio through the Deck) whether a read would return at once;
    a source that cannot tell is read as discord's AudioPlayer would read it."""
    while isinstance(source, discord.PCMVolumeTransformer):
        source = source.original
    probe: Callable[[], bool] | None = getattr(source, "frame_ready", None)
    return probe is None or probe()


class ClockedPlayer:
    """One voice connection's playback, driven by a VoiceClock rather than a thread of its own.

    State changes come from the event loop (pause, resume, stop, a source swap) under ``_lock``;
    the clock reads and sends outside it. ``after`` and the source's cleanup (which waits for
    ffmpeg to die) run on a short-lived thread so one guild's ending never delays the others.
    """

    def __init__(
        self,
        source: discord.AudioSource,
        client: VoiceClient,
        clock: VoiceClock,
        *,
        after: Callable[[Exception | None], Any] | None = None,
    ) -> None:
        if after is not None and not callable(after):
            raise TypeError('Expected a callable for the "after" parameter.')
        self.source = source
        self.client = client
        self.after = after
        self._clock = clock
        self._lock = threading.Lock()
        self._ended = False
        self._paused = False
        self._silenced = True  # nothing was sent yet, so a pause needs no closing silence
        self._reconnect_waiter: threading.Thread | None = None
        self._error: Exception | None = None
        self._version = 0  # bumped by every pause, resume and stop
        self.due = 0.0  # perf_counter() time of the next packet; math.inf while paused
        self.on_grid = False
        self._started_at = 0.0
        self.skipped = 0  # packet slots missed because the source had no frame ready

    # --- the AudioPlayer interface VoiceClient uses -----------------------------------------

    def start(self) -> None:
        self._speak(SpeakingState.voice)
        self.due = self._started_at = time.perf_counter()
        self._clock.add(self)

    def stop(self) -> None:
        with self._lock:
            self._ended = True
            self._paused = False
            self._act_now()
        self._tell(SpeakingState.none)

    def pause(self, *, update_speaking: bool = True) -> None:
        with self._lock:
            if self._ended:
                return
            self._paused = True
            self._silenced = False
            self._act_now()  # one more pass sends the closing silence
        self._tell(SpeakingState.none if update_speaking else None)

    def resume(self, *, update_speaking: bool = True) -> None:
        with self._lock:
            if self._ended:
                return
            self._paused = False
            self.on_grid = False
            self._act_now()
            self._started_at = self.due
        self._tell(SpeakingState.voice if update_speaking else None)

    def _act_now(self) -> None:
        """Under ``_lock``: the clock must act on a state change at once; bumping ``_version``
        makes the change's ``due`` win over the one a send in flight would set."""
        self._version += 1
        self.due = time.perf_counter()

    def _tell(self, speaking: SpeakingState | None) -> None:
        if speaking is not None:
            self._speak(speaking)
        self._clock.wake()

    def is_playing(self) -> bool:
        return not self._paused and not self._ended

    def is_paused(self) -> bool:
        return self._paused and not self._ended

    def set_source(self, source: discord.AudioSource) -> None:
        with self._lock:
            self.source = source

    # --- driven by the clock ------------------------------------------------------------------

    def encode_at(self, complexity: int) -> None:
        """Set this connection's PCM encoder's Opus complexity (the clock's thread, or before it
        serves this player)."""
        encoder = getattr(self.client, "encoder", None)
        if isinstance(encoder, discord.opus.Encoder):
            set_complexity(encoder, complexity)

    def send_due(self, now: float) -> bool:
        """Send what is due at ``now``; False once this player is over (the clock then drops it).

        Reading and sending happen outside ``_lock``, so the loop's pause or stop never waits on
        them. A state change during the send bumps ``_version``, and the change's own ``due`` then
        wins over the one computed here.
        """
        try:
            with self._lock:
                step = self._next_step(now)
                source, version = self.source, self._version
            if step is _Step.FINISH:
                self._finish(silence=True)
                return False
            if step is _Step.SILENCE:
                self._send_silence()
                return True
            if step is _Step.WAIT:
                return True
            if not _frame_ready(source):
                self._skip(now)
                return True
            data = source.read()
            if not data:
                self._error = self._error or getattr(source, "_current_error", None)
                with self._lock:
                    self._ended = True
                self._speak(SpeakingState.none)
                self._finish(silence=True)
                return False
            self.client.send_audio_packet(data, encode=not source.is_opus())
            with self._lock:
                if self._version == version:
                    self._silenced = False
                    behind = self.on_grid and self.due < now - MAX_BEHIND
                    self.due = (
                        self.due + FRAME if self.on_grid and not behind else self._clock.grid_after(now)
                    )
                    self.on_grid = True
            return True
        except Exception as exc:  # as AudioPlayer: the error goes to ``after``
            self._error = exc
            with self._lock:
                self._ended = True
            self._speak(SpeakingState.none)
            self._finish(silence=False)
            return False

    def _skip(self, now: float) -> None:
        """The source's ffmpeg has nothing yet. Just after a start that is ffmpeg's first ~15 ms, so
        the clock looks again within a millisecond (as AudioPlayer's blocking read would return
        then); later it is a stalled network, and this guild misses one packet slot on the grid
        while the others are not held up, and nothing is burst to catch up."""
        with self._lock:
            if not self.on_grid and now - self._started_at < START_POLL_FOR:
                self.due = now + START_POLL
                return
            if self.on_grid:
                self.due += FRAME
            else:
                self.due = self._clock.grid_after(now)
                self.on_grid = True
        self.skipped += 1

    def _next_step(self, now: float) -> _Step:
        """Under ``_lock``: what this pass does for the player (the sending itself comes after)."""
        if self._ended:
            return _Step.FINISH
        if self._paused:
            self.due = math.inf
            if self._silenced:
                return _Step.WAIT
            self._silenced = True
            return _Step.SILENCE
        if not self.client.is_connected():
            if self._reconnect_waiter is None:
                self._reconnect_waiter = threading.Thread(
                    target=self._wait_for_reconnect, name="voice-reconnect-wait", daemon=True
                )
                self._reconnect_waiter.start()
            self.due = math.inf
            return _Step.WAIT
        return _Step.SEND

    def _wait_for_reconnect(self) -> None:
        """As AudioPlayer: wait (on a thread of its own, voice drops are rare) for the reconnect,
        but no longer than the client's timeout, and end playback if it did not come; the source
        is not read meanwhile, so nothing is skipped."""
        connected = self.client.wait_until_connected(self.client.timeout)
        with self._lock:
            self._reconnect_waiter = None
            if self._ended:
                return
            if connected:
                self.on_grid = False
            else:
                log.debug("voice not reconnected in %ss; playback aborted", self.client.timeout)
                self._ended = True
            self._act_now()
            speak = connected and not self._paused
        self._tell(SpeakingState.voice if speak else None)

    def _send_silence(self) -> None:
        try:
            for _ in range(SILENCE_FRAMES):
                self.client.send_audio_packet(OPUS_SILENCE, encode=False)
        except Exception:  # as AudioPlayer: a lost silence frame does not matter
            pass

    def _finish(self, *, silence: bool) -> None:
        if silence and self.client.is_connected():
            self._send_silence()
        try:
            threading.Thread(target=self._call_after_and_clean, name="voice-finish", daemon=True).start()
        except RuntimeError:  # no thread to be had: better late on this thread than never
            self._call_after_and_clean()

    def _call_after_and_clean(self) -> None:
        try:
            if self.after is not None:
                try:
                    self.after(self._error)
                except Exception as exc:
                    exc.__context__ = self._error
                    log.exception("Calling the after function failed.", exc_info=exc)
            elif self._error is not None:
                log.error("voice playback failed", exc_info=self._error)
        finally:
            self.source.cleanup()

    def _speak(self, state: SpeakingState) -> None:
        try:
            asyncio.run_coroutine_threadsafe(self.client.ws.speak(state), self.client.client.loop)
        except Exception:
            log.exception("Speaking call in player failed")
