"""The bench: generated media on a loopback HTTP server, a fake Discord, and one bot process.

:class:`BotUnderTest` starts ``benchmarks._bot_process`` pointed at a :class:`FakeDiscord` in this
process and gives the suites what they need: guilds with a member in voice, commands typed by
that member, the packets the fake heard, and the bot process's CPU/memory/descriptors/children
through psutil. Pacing is judged from the fake's arrival times (perf_counter on the fake's own
loop thread), so this process must stay idle while a measurement window is open.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import logging
import os
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import psutil

from audio.executors import ExecutorMode
from benchmarks._bot_process import PREFIX
from bot.settings import Settings
from tests.audio.pcm_analysis import dominant_frequency
from tests.fakediscord import FakeDiscord, FakeGuild, FakeUser, InjectedMessage, VoicePacket
from tests.media import MediaServer, generate_tone, media_server

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parent.parent
FRAME_MS = 20.0
# BRENT as a user runs it: the extractor mode the EXTRACTOR_MODE setting defaults to.
SHIPPED_EXECUTOR_MODE = ExecutorMode(next(f.default for f in dataclasses.fields(Settings) if f.name == "extractor_mode"))
TONE_A_HZ = 500
TONE_B_HZ = 700


@contextlib.contextmanager
def listener_without_gc_pauses() -> Iterator[None]:
    """Open a measurement window with this process's garbage collector paused.

    The fake stamps each packet when this process's loop reads it, and near the top of a ramp it
    holds hundreds of thousands of recorded packets: one full collection over them stalls the loop
    for ~100 ms, and every stream would look late at once although the bot sent on time.
    """
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@dataclass(frozen=True, slots=True)
class Media:
    server: MediaServer
    short_seconds: float
    soak_seconds: float

    def url(self, name: str, tag: int | str | None = None) -> str:
        """``tag`` makes a distinct URL for the same file (the server ignores the query)."""
        base = self.server.url(name)
        return base if tag is None else f"{base}?n={tag}"


@contextlib.contextmanager
def serve_media(*, long_seconds: float, short_seconds: float = 1.0, soak_seconds: float = 0.4) -> Iterator[Media]:
    """tone_a/tone_b (``short_seconds``, 500/700 Hz; tone_a also as Opus in WebM), long.mp3 and
    soak.mp3, on 127.0.0.1."""
    with tempfile.TemporaryDirectory(prefix="brent-bench-media-") as tmp:
        root = Path(tmp)
        generate_tone(root / "tone_a.mp3", TONE_A_HZ, short_seconds)
        generate_tone(root / "tone_a.webm", TONE_A_HZ, short_seconds)
        generate_tone(root / "tone_b.mp3", TONE_B_HZ, short_seconds)
        generate_tone(root / "long.mp3", 440, long_seconds)
        generate_tone(root / "soak.mp3", 600, soak_seconds)
        with media_server(root) as server:
            yield Media(server, short_seconds, soak_seconds)


@dataclass(frozen=True, slots=True)
class Listener:
    """A guild with one member (alice, who has the DJ role) sitting in its voice channel."""

    guild: FakeGuild
    member: FakeUser


@dataclass(frozen=True, slots=True)
class Usage:
    """The bot process and its children (ffmpeg, extractor workers) at one moment."""

    at: float
    cpu_s: float  # user+system of the process and its live children, plus reaped children
    bot_cpu_s: float  # the bot process alone
    rss_bytes: int  # the bot process alone
    children_rss_bytes: int
    fds: int
    children: tuple[str, ...]  # names of live, non-zombie children


@dataclass(frozen=True, slots=True)
class HeapReport:
    traced_bytes: int  # Python allocations made since tracing started and still alive
    tracemalloc_bytes: int  # tracemalloc's own bookkeeping (part of RSS, not of the bot)
    top_files: str  # the files holding most of it


class BotUnderTest:
    """``async with BotUnderTest.start(fake, "brent", mode="thread") as bot:``"""

    def __init__(
        self, fake: FakeDiscord, kind: str, mode: str, proc: asyncio.subprocess.Process, workdir: Path,
        audio_player_threads: bool = False,
    ) -> None:
        self.fake = fake
        self.kind = kind
        self.mode = mode
        self.audio_player_threads = audio_player_threads
        self.proc = proc
        self.workdir = workdir
        self.ps = psutil.Process(proc.pid)
        self._count = 0

    @property
    def label(self) -> str:
        label = "baseline" if self.kind == "baseline" else f"BRENT ({self.mode})"
        if self.audio_player_threads:
            label += ", AudioPlayer thread per guild"
        return label

    @classmethod
    @contextlib.asynccontextmanager
    async def start(
        cls, fake: FakeDiscord, kind: str, *, mode: str = "thread", audio_player_threads: bool = False,
    ) -> AsyncIterator[BotUnderTest]:
        with tempfile.TemporaryDirectory(prefix=f"brent-bench-{kind}-") as tmp:
            workdir = Path(tmp)
            env = fake.subprocess_env()
            env["PYTHONPATH"] = os.pathsep.join(p for p in (env.get("PYTHONPATH", ""), str(REPO)) if p)
            stderr = (workdir / "stderr.log").open("wb")
            extra = ["--audio-player-threads"] if audio_player_threads else []
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "benchmarks._bot_process", "--kind", kind, "--mode", mode,
                "--data-dir", str(workdir / "data"), *extra, cwd=REPO, env=env,
                stdout=asyncio.subprocess.DEVNULL, stderr=stderr,
            )
            bot = cls(fake, kind, mode, proc, workdir, audio_player_threads)
            try:
                await fake.wait_for_ready(timeout=60)
                yield bot
            finally:
                await bot.stop()
                stderr.close()
                tail = (workdir / "stderr.log").read_text(errors="replace")[-3000:]
                if "Traceback" in tail or "ERROR" in tail:
                    log.warning("%s stderr tail:\n%s", bot.label, tail)

    async def stop(self) -> None:
        if self.proc.returncode is None:
            self.proc.terminate()
            try:
                await asyncio.wait_for(self.proc.wait(), 30)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()

    # --- guilds and commands --------------------------------------------------------------------

    async def add_listeners(self, n: int, *, join: bool = True) -> list[Listener]:
        """``n`` new guilds; with ``join`` their member sits in the voice channel."""
        made: list[Listener] = []
        for _ in range(n):
            self._count += 1
            guild = self.fake.add_guild(
                f"Bench {self._count}", members=("alice",), roles={"DJ": 0}, member_roles={"alice": ("DJ",)},
            )
            made.append(Listener(guild, guild.member("alice")))
        if join:
            await asyncio.gather(*(self.fake.member_join_voice(x.guild, x.member, x.guild.voice_channel) for x in made))
        return made

    async def say(self, who: Listener, command: str) -> InjectedMessage:
        return await self.fake.inject_message(who.guild, who.guild.text_channel, who.member, PREFIX + command)

    async def ask(self, who: Listener, command: str, expect: str | None = None, timeout: float = 30.0) -> InjectedMessage:
        sent = await self.say(who, command)
        await self.fake.wait_for_message(who.guild.text_channel, expect, timeout, after=sent)
        return sent

    # --- process accounting ---------------------------------------------------------------------

    async def start_heap_trace(self, who: Listener) -> None:
        await self.ask(who, "heap start", "heap tracing", timeout=60)

    async def traced_heap(self, who: Listener) -> HeapReport:
        """What the bot allocated since :meth:`start_heap_trace` and still holds (tracemalloc)."""
        sent = await self.say(who, "heap")
        reply = await self.fake.wait_for_message(who.guild.text_channel, "| heap", 60, after=sent)
        growth, overhead, heap = str(reply["content"]).split(" | ")
        return HeapReport(int(heap.split()[-1]), int(overhead.split()[-1]), growth.removeprefix("growth: "))

    def usage(self) -> Usage:
        with self.ps.oneshot():
            times = self.ps.cpu_times()
            own = times.user + times.system
            cpu = own + times.children_user + times.children_system
            rss = self.ps.memory_info().rss
            fds = self.ps.num_fds()
        children_rss = 0
        names: list[str] = []
        for child in self.ps.children(recursive=True):
            try:
                with child.oneshot():
                    if child.status() == psutil.STATUS_ZOMBIE:
                        continue
                    t = child.cpu_times()
                    cpu += t.user + t.system
                    children_rss += child.memory_info().rss
                    names.append(child.name())
            except psutil.NoSuchProcess:
                continue
        return Usage(time.perf_counter(), cpu, own, rss, children_rss, fds, tuple(sorted(names)))


# --- what the fake heard --------------------------------------------------------------------------


def audio_packets(bot: BotUnderTest, who: Listener, start: float, end: float | None = None) -> list[VoicePacket]:
    return [p for p in bot.fake.voice_log(who.guild).audio_packets(after=start) if end is None or p.arrival <= end]


def stream_gaps_ms(packets: Sequence[VoicePacket], all_packets: Sequence[VoicePacket] | None = None) -> np.ndarray:
    """Intervals between consecutive audio packets of one SSRC, in ms (as the recorder defines gaps)."""
    arrivals = [p.arrival for p in packets]
    if len(arrivals) < 2:
        return np.empty(0)
    ssrcs = [p.ssrc for p in packets]
    gaps = [b - a for a, b, s0, s1 in zip(arrivals, arrivals[1:], ssrcs, ssrcs[1:], strict=False) if s0 == s1]
    return np.asarray(gaps) * 1000.0


def changeover_interval_ms(
    packets: Sequence[VoicePacket], first_hz: float, next_hz: float, *, around: int = 5, tolerance_hz: float = 25.0
) -> float:
    """The longest interval between consecutive audio packets near where one track gives way to the next.

    The changeover is found by ear: the last packet whose pitch is ``first_hz`` and the first
    after it at ``next_hz``; the interval is taken over ``around`` packets either side, so an Opus
    transient at the seam cannot hide a late packet. Gapless playback gives one frame period (20 ms),
    and every missed 20 ms slot adds one more. NaN if either pitch is never heard.
    """
    heard = [p for p in packets if p.pcm]
    pitches = [dominant_frequency(p.pcm) for p in heard]
    last_first = max((i for i, f in enumerate(pitches) if abs(f - first_hz) <= tolerance_hz), default=None)
    if last_first is None:
        return float("nan")
    first_next = next(
        (i for i in range(last_first + 1, len(pitches)) if abs(pitches[i] - next_hz) <= tolerance_hz), None
    )
    if first_next is None:
        return float("nan")
    window = heard[max(0, last_first - around) : first_next + around + 1]
    arrivals = np.asarray([p.arrival for p in window])
    return float(np.diff(arrivals).max() * 1000.0)


def late_bursts(gaps_ms: np.ndarray, *, stall_ms: float = 40.0, burst_ms: float = 5.0, run: int = 3) -> int:
    """Stalls followed by a catch-up burst: a gap > ``stall_ms`` then >= ``run`` gaps < ``burst_ms``.

    That is what a listener hears as a hiccup followed by sped-up audio: the sender fell behind
    and then sent the frames it owed back to back.
    """
    count = 0
    i = 0
    n = len(gaps_ms)
    while i < n:
        if gaps_ms[i] > stall_ms:
            j = i + 1
            while j < n and gaps_ms[j] < burst_ms:
                j += 1
            if j - (i + 1) >= run:
                count += 1
            i = j
        else:
            i += 1
    return count


def percentile(values: np.ndarray, q: float) -> float:
    return float(np.percentile(values, q)) if values.size else float("nan")


async def wait_playing(bot: BotUnderTest, who: Listener, after: float, seconds: float = 0.2, timeout: float = 30.0) -> float:
    """Until ``seconds`` of audio arrived after ``after``; returns the first audio packet's arrival."""
    recorder = bot.fake.voice_log(who.guild)
    await recorder.wait_for_audio(seconds, timeout=timeout, after=after)
    first = recorder.first_audio_after(after)
    assert first is not None
    return first.arrival


@contextlib.contextmanager
def arrival_times_only() -> Iterator[None]:
    """The fake's listener skips Opus decoding (it keeps arrival times and frame sizes).

    At 100 streams the fake would decode 5000 frames a second on a 2-core machine that the bot
    needs; packets are still decrypted (so a corrupt one is still an error) and timestamped.
    """
    import tests.fakediscord.voice as voice

    frame = bytes(3840)

    class _Stub:
        def decode(self, data: bytes | None, *, fec: bool = False) -> bytes:
            return frame

    original = voice.discord.opus.Decoder
    voice.discord.opus.Decoder = _Stub  # type: ignore[misc,assignment]
    try:
        yield
    finally:
        voice.discord.opus.Decoder = original  # type: ignore[misc]
