"""What one guild's voice channel "heard": every RTP packet the bot sent, decoded, with timing.

The recorder is the listener in a voice channel. It keeps each packet's arrival time (perf_counter,
the same clock the tests and :meth:`FakeDiscord.inject_message` use), RTP fields, whether it was
one of discord.py's 3-byte silence frames, and the decoded PCM, so tests can check pitch, length,
loudness and pacing, and benchmarks can reuse the same numbers (first-packet latency, gap spread).
"""

from __future__ import annotations

import bisect
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from tests.fakediscord.waiting import Notifier

log = logging.getLogger(__name__)

SAMPLE_RATE = 48000
CHANNELS = 2
FRAME_SECONDS = 0.02


@dataclass(frozen=True, slots=True)
class VoicePacket:
    arrival: float  # time.perf_counter() when the datagram arrived
    sequence: int
    timestamp: int
    ssrc: int
    silence: bool  # the 3-byte Opus silence frame f8 ff fe
    pcm: bytes  # 48 kHz stereo s16le; empty for silence frames (and when the fake does not decode)
    samples: int = 0  # per channel; from the Opus header when not decoded, else len(pcm) // 4
    e2ee: bool = False  # came DAVE-encrypted and a member of the call decrypted it


@dataclass(frozen=True, slots=True)
class SpeakingEvent:
    at: float
    speaking: int
    ssrc: int


@dataclass(frozen=True, slots=True)
class GapStats:
    """Inter-packet spacing of audio packets, in milliseconds."""

    count: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float
    over_40ms: int  # stalls a listener would hear as a hiccup
    min_ms: float = float("nan")
    under_10ms: int = 0  # catch-up bursts: AudioPlayer sends back-to-back after a slow read

    def as_dict(self) -> dict[str, float]:
        return {
            "count": self.count, "p50_ms": self.p50_ms, "p99_ms": self.p99_ms, "max_ms": self.max_ms,
            "mean_ms": self.mean_ms, "min_ms": self.min_ms, "over_40ms": self.over_40ms,
            "under_10ms": self.under_10ms,
        }


@dataclass
class VoiceRecorder:
    guild_id: int
    notifier: Notifier
    _packets: list[VoicePacket] = field(default_factory=list)
    _speaking: list[SpeakingEvent] = field(default_factory=list)
    _errors: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    # Running totals, so waits re-checked after every packet stay O(log n) in long benchmark runs.
    _arrivals: list[float] = field(default_factory=list)
    _audio_samples: list[int] = field(default_factory=list)  # cumulative samples through packet i
    _audio_count: list[int] = field(default_factory=list)  # cumulative audio packets through packet i

    # --- written by the fake's loop -------------------------------------------------------------

    def add_packet(self, packet: VoicePacket) -> None:
        with self._lock:
            self._packets.append(packet)
            self._arrivals.append(packet.arrival)
            samples = 0 if packet.silence else (packet.samples or len(packet.pcm) // (CHANNELS * 2))
            self._audio_samples.append((self._audio_samples[-1] if self._audio_samples else 0) + samples)
            self._audio_count.append((self._audio_count[-1] if self._audio_count else 0) + (not packet.silence))
        self.notifier.notify()

    def add_speaking(self, event: SpeakingEvent) -> None:
        with self._lock:
            self._speaking.append(event)
        self.notifier.notify()

    def add_error(self, error: str) -> None:
        log.warning("voice recorder for guild %s: %s", self.guild_id, error)
        with self._lock:
            self._errors.append(error)
        self.notifier.notify()

    # --- read by tests ----------------------------------------------------------------------------

    @property
    def packets(self) -> list[VoicePacket]:
        with self._lock:
            return list(self._packets)

    @property
    def speaking(self) -> list[SpeakingEvent]:
        with self._lock:
            return list(self._speaking)

    @property
    def errors(self) -> list[str]:
        """Undecryptable or undecodable packets; a healthy session has none."""
        with self._lock:
            return list(self._errors)

    def _first_after(self, after: float | None) -> int:
        """Index of the first packet that arrived after ``after`` (packets are kept in arrival order)."""
        return 0 if after is None else bisect.bisect_right(self._arrivals, after)

    def _totals_after(self, after: float | None) -> tuple[int, int]:
        """(samples per channel, audio packets) that arrived after ``after``."""
        with self._lock:
            if not self._packets:
                return 0, 0
            i = self._first_after(after)
            samples_before = self._audio_samples[i - 1] if i else 0
            count_before = self._audio_count[i - 1] if i else 0
            return self._audio_samples[-1] - samples_before, self._audio_count[-1] - count_before

    def packets_after(self, t: float | None) -> list[VoicePacket]:
        with self._lock:
            return self._packets[self._first_after(t):]

    def audio_packets(self, *, after: float | None = None) -> list[VoicePacket]:
        return [p for p in self.packets_after(after) if not p.silence]

    def audio_seconds(self, *, after: float | None = None) -> float:
        """Seconds of sound received (counted from the Opus frames, so also without decoding)."""
        return self._totals_after(after)[0] / SAMPLE_RATE

    def pcm(self, start_s: float = 0.0, end_s: float | None = None, *, after: float | None = None) -> np.ndarray:
        """Decoded audio as int16 of shape (samples, 2).

        ``after`` keeps only packets that arrived after that perf_counter time; ``start_s``/``end_s``
        then cut the concatenated audio by its own timeline (seconds of decoded sound).
        """
        raw = b"".join(p.pcm for p in self.audio_packets(after=after))
        frames = np.frombuffer(raw, dtype=np.int16).reshape(-1, CHANNELS)
        start = int(round(start_s * SAMPLE_RATE))
        end = None if end_s is None else int(round(end_s * SAMPLE_RATE))
        return frames[start:end]

    def dominant_frequency(self, start_s: float = 0.0, end_s: float | None = None, *, after: float | None = None) -> float:
        """The strongest frequency (Hz) in that stretch of decoded audio; NaN if it is silent or empty."""
        return dominant_frequency(self.pcm(start_s, end_s, after=after))

    def frequency_track(self, window_s: float = 0.1, *, after: float | None = None) -> list[tuple[float, float]]:
        """(start second, dominant Hz) for consecutive windows: follows a pitch-changing clock file."""
        pcm = self.pcm(after=after)
        step = int(window_s * SAMPLE_RATE)
        return [
            (i / SAMPLE_RATE, dominant_frequency(pcm[i : i + step]))
            for i in range(0, len(pcm) - step + 1, step)
        ]

    def rms(self, start_s: float = 0.0, end_s: float | None = None, *, after: float | None = None) -> float:
        """Root-mean-square amplitude (int16 units) of that stretch; compare two for a volume ratio."""
        pcm = self.pcm(start_s, end_s, after=after).astype(np.float64)
        return float(np.sqrt(np.mean(pcm**2))) if pcm.size else 0.0

    def first_audio_after(self, t0: float) -> VoicePacket | None:
        """The first non-silent packet that arrived after ``t0`` (e.g. a command's ``sent_at``)."""
        return next(iter(self.audio_packets(after=t0)), None)

    def latency_after(self, t0: float) -> float | None:
        """Seconds from ``t0`` to the first audible packet; the command-to-sound latency."""
        first = self.first_audio_after(t0)
        return None if first is None else first.arrival - t0

    def gaps(self, *, after: float | None = None) -> np.ndarray:
        """Seconds between consecutive audio packets of one stream.

        Pairs separated by a silence frame (pause, end of track) or a new SSRC (reconnect) are left
        out: those gaps are intended, not jitter. Stalls with contiguous sequence numbers count.
        """
        result: list[float] = []
        previous: VoicePacket | None = None
        for p in self.packets_after(after):
            if p.silence:
                previous = None
                continue
            if previous is not None and previous.ssrc == p.ssrc:
                result.append(p.arrival - previous.arrival)
            previous = p
        return np.asarray(result, dtype=np.float64)

    def transitions(self, *, after: float | None = None) -> list[float]:
        """Seconds from the last audio packet before each silence run to the first one after it.

        discord.py ends every source with five silence frames, so these are the track-to-track
        (or pause-to-resume) gaps a listener hears; ``gaps()`` leaves them out on purpose.
        """
        result: list[float] = []
        last_audio: VoicePacket | None = None
        in_silence = False
        for p in self.packets_after(after):
            if p.silence:
                in_silence = last_audio is not None
                continue
            if in_silence and last_audio is not None:
                result.append(p.arrival - last_audio.arrival)
            in_silence = False
            last_audio = p
        return result

    def gap_stats(self, *, after: float | None = None) -> GapStats:
        g = self.gaps(after=after) * 1000.0
        if g.size == 0:
            return GapStats(0, float("nan"), float("nan"), float("nan"), float("nan"), 0)
        return GapStats(
            count=int(g.size),
            p50_ms=float(np.percentile(g, 50)),
            p99_ms=float(np.percentile(g, 99)),
            max_ms=float(g.max()),
            mean_ms=float(g.mean()),
            over_40ms=int((g > 40.0).sum()),
            min_ms=float(g.min()),
            under_10ms=int((g < 10.0).sum()),
        )

    def sequence_breaks(self, *, after: float | None = None) -> list[tuple[int, int]]:
        """(previous, next) sequence numbers that are not consecutive within one SSRC (lost or reordered)."""
        breaks: list[tuple[int, int]] = []
        last: dict[int, int] = {}
        for p in self.packets_after(after):
            prev = last.get(p.ssrc)
            if prev is not None and p.sequence != (prev + 1) % 65536:
                breaks.append((prev, p.sequence))
            last[p.ssrc] = p.sequence
        return breaks

    # --- waits (run the probe on the fake's loop) ---------------------------------------------------

    async def wait_for_packets(self, n: int, timeout: float = 10.0, *, audio: bool = True, after: float | None = None) -> list[VoicePacket]:
        """Until ``n`` packets (audio only unless ``audio=False``) arrived after ``after``."""

        def probe() -> list[VoicePacket] | None:
            have = self._totals_after(after)[1] if audio else len(self.packets_after(after))
            if have < n:
                return None
            return self.audio_packets(after=after) if audio else self.packets_after(after)

        return await self.notifier.wait(probe, timeout, lambda: f"{n} packets in guild {self.guild_id} (have {len(self.packets)})")

    async def wait_for_audio(self, seconds: float, timeout: float = 10.0, *, after: float | None = None) -> float:
        """Until at least ``seconds`` of decoded sound arrived after ``after``; returns how much."""

        def probe() -> float | None:
            have = self.audio_seconds(after=after)
            return have if have >= seconds else None

        return await self.notifier.wait(
            probe, timeout, lambda: f"{seconds:.2f}s of audio in guild {self.guild_id} (have {self.audio_seconds(after=after):.2f}s)"
        )

    async def wait_for_silence(self, timeout: float = 10.0, *, after: float | None = None, frames: int = 5) -> VoicePacket:
        """Until the stream goes quiet: ``frames`` silence frames arrived after the last audio packet.

        discord.py sends five silence frames whenever playback pauses or ends while connected, so
        this is the protocol's own "stopped talking" signal, not a guess from elapsed time.
        """

        def probe() -> VoicePacket | None:
            with self._lock:
                tail = self._packets[-frames:]
            if len(tail) < frames or (after is not None and tail[0].arrival <= after):
                return None
            return tail[-1] if all(p.silence for p in tail) else None

        return await self.notifier.wait(probe, timeout, lambda: f"silence in guild {self.guild_id}")

    async def wait_for_speaking(self, speaking: int, timeout: float = 10.0, *, after: float | None = None) -> SpeakingEvent:
        """Until the bot sends a voice SPEAKING op with that flag value (1 talking, 0 stopped)."""

        def probe() -> SpeakingEvent | None:
            return next(
                (e for e in reversed(self.speaking) if e.speaking == speaking and (after is None or e.at > after)), None
            )

        return await self.notifier.wait(probe, timeout, lambda: f"SPEAKING {speaking} in guild {self.guild_id}")

    async def wait_until(self, check: Callable[[VoiceRecorder], bool], timeout: float = 10.0, what: str = "a condition") -> None:
        await self.notifier.wait(lambda: check(self) or None, timeout, lambda: what)


def dominant_frequency(pcm: np.ndarray) -> float:
    """Peak of a Hann-windowed, zero-padded spectrum with parabolic interpolation (sub-Hz precision)."""
    if pcm.size == 0:
        return float("nan")
    mono = pcm.astype(np.float64)
    if mono.ndim == 2:
        mono = mono.mean(axis=1)
    mono = mono - mono.mean()
    if not np.any(mono):
        return float("nan")
    n = 1 << max(16, int(np.ceil(np.log2(len(mono)))) + 2)
    spectrum = np.abs(np.fft.rfft(mono * np.hanning(len(mono)), n))
    k = int(np.argmax(spectrum[1:])) + 1
    if 0 < k < len(spectrum) - 1:
        a, b, c = np.log(spectrum[k - 1 : k + 2] + 1e-12)
        k = k + 0.5 * (a - c) / (a - 2 * b + c)
    return float(k * SAMPLE_RATE / n)
