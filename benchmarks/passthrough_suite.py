"""Opus pass-through: how many streams one bot holds when their packets are copied, not re-encoded.

One fresh bot process (``benchmarks._bot_process``, BRENT as shipped) per kind of media: an Ogg Opus
file (its packets are copied: ``-c:a copy``, no decode, no encode) and an MP3 (decoded to PCM by
ffmpeg and encoded to Opus by the bot). Guilds are added level by level, each with a member in
voice who types ``play``. At every level ten consecutive two-second windows are measured; each
window gives, per stream, the packets delivered and the worst gap, and for the bot process plus its
ffmpeg children the CPU and the resident memory, divided by the number of streams. The figures are
the distributions over those ten windows (min / median / p95 / max).

A level holds when in every window every stream delivered >= 49 packets a second and the worst
stream's p99 gap stayed <= 40 ms. The fake Discord listens in this process and shares the cores.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import psutil

from benchmarks import Section, SuiteOptions
from benchmarks._figures import table
from benchmarks._voice_rig import (
    BotUnderTest,
    Listener,
    arrival_times_only,
    audio_packets,
    listener_without_gc_pauses,
    stream_gaps_ms,
)
from tests.fakediscord import FakeDiscord, message_text
from tests.media import FFMPEG, MediaServer, generate_tone, media_server

log = logging.getLogger(__name__)

NAME = "passthrough"
ORDER = 35
WINDOWS = 10
WINDOW_S = 2.0  # a 1 s window counts 49 or 51 packets of a perfect stream by where it falls
MIN_PACKETS_PER_S = 49
P99_LIMIT_MS = 40.0
START_TIMEOUT_S = 90.0
JOINS_PER_WINDOW = 50
JOIN_WINDOW_S = 60.0
START_BATCH = 5  # plays sent at once: well inside what the lookup gate lets wait (8) while others refresh
LEVELS = {"opus": (1, 10, 50, 100, 150, 200), "mp3": (1, 10, 50, 100)}
QUICK_LEVELS = {"opus": (1, 4), "mp3": (1, 4)}
REPORTED = (1, 10, 100)


@dataclass(frozen=True, slots=True)
class Window:
    min_packets_per_s: float  # the slowest stream
    worst_p99_ms: float  # the stream with the worst p99 gap
    cpu_ms_per_stream: float  # bot + ffmpeg, ms of CPU per second of one stream
    bot_cpu_ms_per_stream: float
    rss_mb_per_stream: float  # the bot's growth over its idle RSS plus its ffmpeg children, over the streams
    machine_busy: float  # all cores, every process (other users included)


@dataclass(frozen=True, slots=True)
class Level:
    media: str
    streams: int
    windows: tuple[Window, ...]
    failure: str | None = None  # a stream of this level did not start: what the bot said

    @property
    def holds(self) -> bool:
        return self.failure is None and all(
            w.min_packets_per_s >= MIN_PACKETS_PER_S and w.worst_p99_ms <= P99_LIMIT_MS for w in self.windows
        )

    def spread(self, attr: str) -> str:
        if not self.windows:
            return "-"
        values = np.array([getattr(w, attr) for w in self.windows], dtype=float)
        return " / ".join(f"{v:.1f}" for v in np.percentile(values, (0, 50, 95, 100)))


@contextlib.contextmanager
def opus_media(seconds: float) -> Iterator[MediaServer]:
    with tempfile.TemporaryDirectory(prefix="brent-bench-opus-") as tmp:
        root = Path(tmp)
        subprocess.run(
            [FFMPEG, "-nostdin", "-v", "error", "-y", "-f", "lavfi",
             "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}",
             "-ac", "2", "-c:a", "libopus", "-b:a", "128k", str(root / "long.opus")],
            check=True, capture_output=True, timeout=300,
        )  # fmt: skip
        generate_tone(root / "long.mp3", 440, seconds)
        with media_server(root) as server:
            yield server


def ffmpeg_rss(bot: BotUnderTest) -> int:
    total = 0
    for child in bot.ps.children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if "ffmpeg" in child.name() and child.status() != psutil.STATUS_ZOMBIE:
                total += child.memory_info().rss
    return total


async def measure_window(bot: BotUnderTest, streams: list[Listener], base_rss: int) -> Window:
    u0 = bot.usage()
    psutil.cpu_percent(None)
    start = time.perf_counter()
    await asyncio.sleep(WINDOW_S)
    end = time.perf_counter()
    u1 = bot.usage()
    rates, p99s = [], []
    for who in streams:
        packets = audio_packets(bot, who, start, end)
        rates.append(len(packets) / (end - start))
        gaps = stream_gaps_ms(packets)
        p99s.append(float(np.percentile(gaps, 99)) if gaps.size else float("inf"))
    n = len(streams)
    span = u1.at - u0.at
    return Window(
        min_packets_per_s=min(rates), worst_p99_ms=max(p99s),
        cpu_ms_per_stream=(u1.cpu_s - u0.cpu_s) / span * 1000 / n,
        bot_cpu_ms_per_stream=(u1.bot_cpu_s - u0.bot_cpu_s) / span * 1000 / n,
        rss_mb_per_stream=(u1.rss_bytes - base_rss + ffmpeg_rss(bot)) / 2**20 / n,
        machine_busy=psutil.cpu_percent(None) / 100,
    )  # fmt: skip


class JoinPace:
    """Voice joins within Discord's gateway limit: discord.py sends at most 110 commands a minute,
    and a join costs two (voice state and self-deaf), so a faster ramp times out its own joins."""

    def __init__(self) -> None:
        self._times: collections.deque[float] = collections.deque()

    async def room_for(self, n: int) -> None:
        now = time.monotonic()
        while self._times and now - self._times[0] > JOIN_WINDOW_S:
            self._times.popleft()
        while len(self._times) + n > JOINS_PER_WINDOW:
            await asyncio.sleep(JOIN_WINDOW_S - (now - self._times[0]) + 0.1)
            now = time.monotonic()
            while self._times and now - self._times[0] > JOIN_WINDOW_S:
                self._times.popleft()
        self._times.extend([now] * n)


async def ramp(media: str, url: str, levels: tuple[int, ...]) -> list[Level]:
    measured: list[Level] = []
    async with FakeDiscord() as fake, BotUnderTest.start(fake, "brent", mode="process") as bot:
        base_rss = bot.usage().rss_bytes  # logged in, nothing playing (the lookup workers are not counted)
        streams: list[Listener] = []
        joins = JoinPace()
        for target in levels:
            while len(streams) < target:  # in batches a member would not be told "busy" in
                await joins.room_for(min(START_BATCH, target - len(streams)))
                new = await bot.add_listeners(min(START_BATCH, target - len(streams)))
                sent = await asyncio.gather(*(bot.say(who, f"play {url}?n={who.guild.id}") for who in new))
                outcomes = await asyncio.gather(*(
                    fake.voice_log(who.guild).wait_for_audio(0.2, timeout=START_TIMEOUT_S, after=s.sent_at)
                    for who, s in zip(new, sent, strict=True)
                ), return_exceptions=True)  # fmt: skip
                failed = [who for who, outcome in zip(new, outcomes, strict=True) if isinstance(outcome, BaseException)]
                if failed:
                    said = [message_text(m) for m in fake.bot_messages(failed[0].guild.text_channel)]
                    note = f"stream {len(streams) + new.index(failed[0]) + 1} did not start; the bot said {said!r}"
                    log.warning("%s: %s", media, note)
                    measured.append(Level(media, target, (), failure=note))
                    return measured
                streams += new
            await asyncio.sleep(1.0)  # the start-up burst passes
            with listener_without_gc_pauses():
                windows = tuple([await measure_window(bot, streams, base_rss) for _ in range(WINDOWS)])
            level = Level(media, len(streams), windows)
            measured.append(level)
            log.info("%s: %d streams: %s", media, level.streams, "holds" if level.holds else "does not hold")
            if not level.holds:
                break
    return measured


async def measure_all(quick: bool) -> list[Level]:
    plan = QUICK_LEVELS if quick else LEVELS
    levels: list[Level] = []
    # Longer than both ramps together (joins are paced at 50 a minute): a stream whose track
    # ended mid-ramp would count as one that stopped.
    with opus_media(60.0 if quick else 900.0) as server, arrival_times_only():
        levels += await ramp("opus", server.url("long.opus"), plan["opus"])
        levels += await ramp("mp3", server.url("long.mp3"), plan["mp3"])
    return levels


def report(levels: list[Level], options: SuiteOptions) -> Section:
    rows = [
        [lv.media, str(lv.streams), lv.spread("min_packets_per_s"), lv.spread("worst_p99_ms"),
         lv.spread("cpu_ms_per_stream"), lv.spread("bot_cpu_ms_per_stream"), lv.spread("rss_mb_per_stream"),
         lv.spread("machine_busy"), "yes" if lv.holds else f"**no**{': ' + lv.failure if lv.failure else ''}"]
        for lv in levels
    ]  # fmt: skip
    body = table(
        ["media", "streams", "slowest stream, packets/s", "worst stream p99 gap (ms)",
         "CPU ms per stream-second (bot + ffmpeg)", "of it the bot", "RSS MB per stream above the idle bot (bot + ffmpeg)",
         "machine busy (0-1)", "holds"],
        rows,
    )  # fmt: skip
    held = {
        media: max((lv.streams for lv in levels if lv.media == media and lv.holds), default=0)
        for media in LEVELS
    }
    markdown = f"""
{"Quick" if options.quick else "Full"} run. Each cell is min / median / p95 / max over {WINDOWS} consecutive
{WINDOW_S:.0f}-second windows at that level, one fresh bot process per media kind (`benchmarks._bot_process`).
A level holds when in every window every stream delivered >= {MIN_PACKETS_PER_S} packets/s and the worst
stream's p99 gap stayed <= {P99_LIMIT_MS:.0f} ms. Opus: an Ogg Opus file whose packets BRENT copies
(`-c:a copy`); MP3: decoded by ffmpeg, encoded by the bot. Held: Opus {held["opus"]}, MP3 {held["mp3"]}.
The fake Discord (decrypting; a packet's arrival is the kernel's receive time at its socket) runs in the
measuring process on the same 2 cores.

{body}

Reproduce: `.venv/bin/python -m benchmarks.run --only passthrough`.
"""
    return Section(title="Opus pass-through: streams, CPU and memory", markdown=markdown, console=body)


def run(options: SuiteOptions) -> Section:
    return report(asyncio.run(measure_all(options.quick)), options)
