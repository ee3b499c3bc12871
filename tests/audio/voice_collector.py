"""A stand-in voice client that keeps the PCM frames instead of sending them to Discord.

It is honest on purpose: playback runs in discord.py's own ``AudioPlayer`` thread (the very loop
that reads ``source.read()``, passes the source's error to ``after``, calls ``after`` and then
``source.cleanup()``, and handles ``set_source``, ``pause`` and ``resume``). Only the network end is
replaced: ``send_audio_packet`` records each frame with its ``time.monotonic()``. ``pace`` is the
player's frame delay (discord uses 0.02 s); the default 0 reads as fast as ffmpeg decodes.

``hold_at(n)`` makes the player thread block inside the n-th send, as a stalled socket would, so a
test can change volume or seek at an exact frame boundary without racing the player thread.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import discord
from discord.player import AudioPlayer

from audio.clocked_voice_client import refuse_unplayable


@dataclass(frozen=True, slots=True)
class CollectedFrame:
    pcm: bytes
    at: float  # time.monotonic() when the player "sent" it
    play_index: int  # which play() call produced it (0-based)
    source_index: int  # which ffmpeg source produced it (0-based): a new play, a seek or a hand-over


def _producer(source: object) -> object:
    """The ffmpeg source behind what the AudioPlayer reads: through the volume wrapper and the deck."""
    inner = getattr(source, "original", source)
    return getattr(inner, "source", inner)


class _SpeakingRecorder:
    """The voice websocket's ``speak``: AudioPlayer schedules it on the loop around playback."""

    def __init__(self) -> None:
        self.states: list[discord.SpeakingState] = []

    async def speak(self, state: discord.SpeakingState = discord.SpeakingState.voice) -> None:
        self.states.append(state)


class _LoopHolder:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop


class _CollectingAudioPlayer(AudioPlayer):
    def __init__(
        self,
        source: discord.AudioSource,
        client: Any,
        *,
        after: Callable[[Exception | None], Any] | None,
        delay: float,
        play_index: int,
    ) -> None:
        super().__init__(source, client, after=after)
        self.DELAY = delay  # instance attribute; discord reads self.DELAY
        self.play_index = play_index


class VoiceCollector:
    """Implements :class:`audio.player.VoiceTarget` on top of discord's real AudioPlayer."""

    def __init__(self, loop: asyncio.AbstractEventLoop, *, pace: float = 0.0) -> None:
        self.pace = pace
        self.timeout = 2.0  # VoiceClient.timeout: how long AudioPlayer waits for a reconnect
        self.ws = _SpeakingRecorder()
        self.client = _LoopHolder(loop)
        self.frames: list[CollectedFrame] = []
        self.silence_packets = 0
        self.after_errors: list[Exception | None] = []
        self.swaps: list[int] = []  # len(frames) where another source took over within one play
        self.sources = 0  # distinct sources heard so far
        self._last_producer: tuple[int, object] | None = None
        self.plays = 0
        self.fec: list[bool] = []  # the Opus FEC setting each play() asked the encoder for
        self._connected = True
        self._player: _CollectingAudioPlayer | None = None
        self._threads: list[_CollectingAudioPlayer] = []
        self._cond = threading.Condition()
        self._hold_at: int | None = None
        self._held = threading.Event()
        self._release = threading.Event()

    # -- VoiceTarget ---------------------------------------------------------------------------

    def play(
        self,
        source: discord.AudioSource,
        *,
        after: Callable[[Exception | None], Any] | None = None,
        fec: bool = True,
    ) -> None:
        refuse_unplayable(self, source)

        def record_after(error: Exception | None) -> None:
            with self._cond:
                self.after_errors.append(error)
                self._cond.notify_all()
            if after is not None:
                after(error)

        player = _CollectingAudioPlayer(
            source, self, after=record_after, delay=self.pace, play_index=self.plays
        )
        self.plays += 1
        self.fec.append(fec)
        self._player = player
        self._threads.append(player)
        player.start()

    def stop(self) -> None:
        if self._player:
            self._player.stop()
            self._player = None

    def pause(self) -> None:
        if self._player:
            self._player.pause()

    def resume(self) -> None:
        if self._player:
            self._player.resume()

    def is_playing(self) -> bool:
        return self._player is not None and self._player.is_playing()

    def is_paused(self) -> bool:
        return self._player is not None and self._player.is_paused()

    def is_connected(self) -> bool:
        return self._connected

    @property
    def source(self) -> discord.AudioSource | None:
        return self._player.source if self._player else None

    @source.setter
    def source(self, value: discord.AudioSource) -> None:
        if not isinstance(value, discord.AudioSource):
            raise TypeError(f"expected AudioSource not {value.__class__.__name__}.")
        if self._player is None:
            raise ValueError("Not playing anything.")
        self._player.set_source(value)

    # -- what AudioPlayer calls on its client ----------------------------------------------

    def send_audio_packet(self, data: bytes, *, encode: bool = True) -> None:
        if not encode:
            with self._cond:
                self.silence_packets += 1  # discord's OPUS_SILENCE after a stop or pause
                self._cond.notify_all()
            return
        thread = threading.current_thread()
        index = getattr(thread, "play_index", -1)
        producer = _producer(getattr(thread, "source", None))
        with self._cond:
            last = self._last_producer
            if last is None or last[0] != index or last[1] is not producer:
                if last is not None and last[0] == index:
                    self.swaps.append(len(self.frames))
                self.sources += 1
                self._last_producer = (index, producer)
            self.frames.append(CollectedFrame(bytes(data), time.monotonic(), index, self.sources - 1))
            count = len(self.frames)
            self._cond.notify_all()
            hold = self._hold_at is not None and count >= self._hold_at
            if hold:
                self._hold_at = None
                held, release = self._held, self._release
        if hold:
            held.set()
            release.wait()

    def wait_until_connected(self, timeout: float | None = None) -> bool:
        return self._connected

    # -- test controls ---------------------------------------------------------------------

    def disconnect(self) -> None:
        self._connected = False

    def hold_at(self, count: int) -> None:
        """Block the player thread right after it has sent frame number ``count`` (1-based)."""
        with self._cond:
            self._held = threading.Event()
            self._release = threading.Event()
            self._hold_at = count

    async def wait_held(self, timeout: float = 10.0) -> bool:
        with self._cond:
            held = self._held
        return await asyncio.to_thread(held.wait, timeout)

    def release(self, *, hold_next_at: int | None = None) -> None:
        """Let the held player thread go on, arming the next hold first so it cannot race past."""
        with self._cond:
            release = self._release
            if hold_next_at is not None:
                self._held = threading.Event()
                self._release = threading.Event()
                self._hold_at = hold_next_at
        release.set()

    def frame_count(self) -> int:
        with self._cond:
            return len(self.frames)

    async def wait_for(self, predicate: Callable[[VoiceCollector], bool], timeout: float = 10.0) -> bool:
        """Wait (off the loop) until ``predicate(self)`` holds; False on timeout."""

        def blocking() -> bool:
            with self._cond:
                return self._cond.wait_for(lambda: predicate(self), timeout)

        return await asyncio.to_thread(blocking)

    async def wait_for_frames(self, count: int, timeout: float = 10.0) -> bool:
        return await self.wait_for(lambda c: len(c.frames) >= count, timeout)

    def pcm(self, start: int = 0, end: int | None = None, *, play_index: int | None = None) -> bytes:
        with self._cond:
            frames = self.frames[start:end]
        return b"".join(f.pcm for f in frames if play_index is None or f.play_index == play_index)

    def frames_of(self, play_index: int) -> list[CollectedFrame]:
        with self._cond:
            return [f for f in self.frames if f.play_index == play_index]

    def frames_of_source(self, source_index: int) -> list[CollectedFrame]:
        with self._cond:
            return [f for f in self.frames if f.source_index == source_index]

    async def close(self, timeout: float = 10.0) -> None:
        """Stop everything and wait for every player thread (after() and cleanup() done)."""
        self.stop()
        with self._cond:
            self._hold_at = None
            self._release.set()
        for thread in list(self._threads):
            await asyncio.to_thread(thread.join, timeout)
