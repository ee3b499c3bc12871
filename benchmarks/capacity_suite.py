"""Never stutter, part 2 of 3: how many guild streams one bot process holds, and what each costs.

Ramps the number of guilds playing at once (each a member in voice and ``play`` of a long tone)
for BRENT and for the basic_voice.py baseline, measuring at every level, over a quiet window
after the new streams settled: the pooled inter-packet gaps of all streams (p50/p99/max), late
bursts (a stall > 40 ms followed by >= 3 packets < 5 ms apart: the sender catching up), the CPU of
the bot process and its ffmpeg children (psutil), and resident memory. A level "holds" when
p99 <= 40 ms, there is no late burst and the streams keep real time (>= 98 % of 50 packets a
second); the ramp stops after two levels in a row that do not.
Before the ramp, idle guilds (known to the bot, nobody in voice) are added to measure memory per
idle guild.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field

import numpy as np
import psutil

from benchmarks import Section, SuiteOptions
from benchmarks._opus_path import PathCost, measure_path_cost
from benchmarks._voice_rig import (
    FRAME_MS,
    SHIPPED_EXECUTOR_MODE,
    BotUnderTest,
    Listener,
    Media,
    arrival_times_only,
    audio_packets,
    late_bursts,
    listener_without_gc_pauses,
    percentile,
    serve_media,
    stream_gaps_ms,
    wait_playing,
)
from tests.fakediscord import FakeDiscord

log = logging.getLogger(__name__)

NAME = "capacity"
ORDER = 30
P99_LIMIT_MS = 40.0
REAL_TIME_MIN = 0.98  # a level also needs its streams to deliver this share of 50 packets a second
TARGET_STREAMS = 60
MISSES_TO_STOP = 2  # consecutive levels that do not hold before the ramp stops
START_TIMEOUT_S = 60.0
FULL_LEVELS = (1, 10, 20, 30, 40, 50, 60, 70, 80, 100, 120, 140, 160)
QUICK_LEVELS = (1, 4, 8)


@dataclass(frozen=True, slots=True)
class Plan:
    levels: tuple[int, ...]
    window_s: float
    idle_guilds: int
    budget_s: float  # per bot: stop ramping after this long

    @classmethod
    def of(cls, quick: bool) -> Plan:
        if quick:
            return cls(QUICK_LEVELS, 3.0, 20, 60.0)
        return cls(FULL_LEVELS, 5.0, 50, 150.0)


@dataclass(frozen=True, slots=True)
class Level:
    streams: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    over_40: int
    bursts: int
    cpu_cores: float  # CPU seconds per second, bot process + children
    bot_cpu_cores: float  # the bot process alone (discord.py's player threads: volume, Opus, send)
    rss_mb: float
    children_rss_mb: float
    silent_streams: int  # streams that sent nothing in the window
    listener_cores: float = float("nan")  # this process: the fake Discord receiving and timestamping packets
    machine_busy: float = float("nan")  # fraction of all cores busy (every process, other users included)
    # Packets received over packets due (50/s per stream). A sender that falls behind and does not
    # burst to catch up keeps a tidy p99 while the audio runs slow, so the gap figures alone would
    # pass an overloaded level; this catches it.
    real_time: float = float("nan")

    @property
    def holds(self) -> bool:
        return (
            self.p99_ms <= P99_LIMIT_MS and self.bursts == 0 and self.silent_streams == 0
            and self.real_time >= REAL_TIME_MIN
        )


@dataclass
class Ramp:
    label: str
    levels: list[Level] = field(default_factory=list)
    idle_guilds: int = 0
    idle_kb_per_guild: float = float("nan")
    base_rss_mb: float = float("nan")
    failed_starts: list[str] = field(default_factory=list)  # streams that never sent audio, and why

    @property
    def held(self) -> int:
        """The most streams at a level that held, before two levels in a row did not.

        One bad window is not the end of the ramp: on a shared machine one neighbour's burst of
        work can spoil a single window, and the level above would show whether it was the bot.
        """
        best = misses = 0
        for level in self.levels:
            if level.holds:
                best, misses = max(best, level.streams), 0
            else:
                misses += 1
                if misses == MISSES_TO_STOP:
                    break
        return best

    def cpu_ms_per_stream(self) -> float:
        """Slope of CPU against streams (ms of CPU per second of one stream), over levels that held."""
        good = [lv for lv in self.levels if lv.holds] or self.levels
        if len(good) < 2:
            return good[0].cpu_cores * 1000 / max(good[0].streams, 1) if good else float("nan")
        x = np.array([lv.streams for lv in good], dtype=float)
        y = np.array([lv.cpu_cores for lv in good]) * 1000
        return float(np.polyfit(x, y, 1)[0])

    def mb_per_stream(self, attr: str) -> float:
        if len(self.levels) < 2:
            return float("nan")
        x = np.array([lv.streams for lv in self.levels], dtype=float)
        y = np.array([getattr(lv, attr) for lv in self.levels])
        return float(np.polyfit(x, y, 1)[0])


async def idle_memory(bot: BotUnderTest, n: int, ramp: Ramp) -> None:
    before = bot.usage()
    await bot.add_listeners(n, join=False)
    # GUILD_CREATE reaches the bot asynchronously; the fake logs nothing for it, so give it a beat.
    await asyncio.sleep(2.0)
    after = bot.usage()
    ramp.idle_guilds = n
    ramp.base_rss_mb = before.rss_bytes / 2**20
    ramp.idle_kb_per_guild = (after.rss_bytes - before.rss_bytes) / 1024 / n


async def measure_level(bot: BotUnderTest, streams: list[Listener], window_s: float) -> Level:
    me = psutil.Process()
    mine0 = sum(me.cpu_times()[:2])
    psutil.cpu_percent(None)
    u0 = bot.usage()
    start = time.perf_counter()
    with listener_without_gc_pauses():
        await asyncio.sleep(window_s)  # the measurement window: the bot plays, this process stays idle
    end = time.perf_counter()
    u1 = bot.usage()
    machine = psutil.cpu_percent(None) / 100
    mine = (sum(me.cpu_times()[:2]) - mine0) / (end - start)
    pooled: list[np.ndarray] = []
    bursts = silent = received = 0
    for who in streams:
        packets = audio_packets(bot, who, start, end)
        received += len(packets)
        gaps = stream_gaps_ms(packets)
        if gaps.size == 0:
            silent += 1
            continue
        bursts += late_bursts(gaps)
        pooled.append(gaps)
    gaps = np.concatenate(pooled) if pooled else np.empty(0)
    return Level(
        streams=len(streams), p50_ms=percentile(gaps, 50), p99_ms=percentile(gaps, 99),
        max_ms=float(gaps.max()) if gaps.size else float("nan"), over_40=int((gaps > 40).sum()), bursts=bursts,
        cpu_cores=(u1.cpu_s - u0.cpu_s) / (u1.at - u0.at), bot_cpu_cores=(u1.bot_cpu_s - u0.bot_cpu_s) / (u1.at - u0.at),
        rss_mb=u1.rss_bytes / 2**20,
        children_rss_mb=u1.children_rss_bytes / 2**20, silent_streams=silent, listener_cores=mine,
        machine_busy=machine, real_time=received / (len(streams) * (end - start) / (FRAME_MS / 1000)),
    )


async def ramp_bot(kind: str, media: Media, plan: Plan, audio_player_threads: bool = False) -> Ramp:
    async with FakeDiscord() as fake, BotUnderTest.start(
        fake, kind, mode=SHIPPED_EXECUTOR_MODE.value, audio_player_threads=audio_player_threads
    ) as bot:
        ramp = Ramp(bot.label)
        await idle_memory(bot, plan.idle_guilds, ramp)
        started = time.perf_counter()
        streams: list[Listener] = []
        misses = 0
        for target in plan.levels:
            new = await bot.add_listeners(target - len(streams))
            sent = await asyncio.gather(*(bot.say(who, f"play {media.url('long.mp3', who.guild.id)}") for who in new))
            started_ok = await asyncio.gather(
                *(wait_playing(bot, who, s.sent_at, timeout=START_TIMEOUT_S) for who, s in zip(new, sent, strict=True)),
                return_exceptions=True,
            )
            for who, outcome in zip(new, started_ok, strict=True):
                if isinstance(outcome, BaseException):
                    said = [m.get("content", "") for m in bot.fake.bot_messages(who.guild.text_channel)]
                    ramp.failed_starts.append(f"{who.guild.name}: {type(outcome).__name__}; the bot said {said!r}")
                    log.warning("%s: a stream did not start: %s", bot.label, ramp.failed_starts[-1])
            streams += new
            await asyncio.sleep(1.0)  # let the start-up burst of the new streams pass before measuring
            level = await measure_level(bot, streams, plan.window_s)
            ramp.levels.append(level)
            log.info("%s: %d streams: p50 %.1f p99 %.1f max %.1f ms, %d bursts, %.2f cores, rss %.0f MB (+%.0f MB children)%s",
                     bot.label, level.streams, level.p50_ms, level.p99_ms, level.max_ms, level.bursts,
                     level.cpu_cores, level.rss_mb, level.children_rss_mb, "" if level.holds else "  <- does not hold")
            misses = 0 if level.holds else misses + 1
            if misses == MISSES_TO_STOP or time.perf_counter() - started > plan.budget_s:
                break
        return ramp


async def measure_all(plan: Plan) -> tuple[Ramp, Ramp, Ramp, PathCost]:
    cost = await asyncio.to_thread(measure_path_cost, 10.0 if plan.levels == QUICK_LEVELS else 30.0)
    long_s = plan.budget_s * 2 + 120
    with serve_media(long_seconds=long_s) as media, arrival_times_only():
        baseline = await ramp_bot("baseline", media, plan)
        brent = await ramp_bot("brent", media, plan)
        # The comparison: the same BRENT sending the way discord.py does, one AudioPlayer thread per
        # guild, as it did before the shared voice clock.
        threads = await ramp_bot("brent", media, plan, audio_player_threads=True)
    return baseline, brent, threads, cost


def run(options: SuiteOptions) -> Section:
    from benchmarks.capacity_report import report  # it reads this module's levels

    plan = Plan.of(options.quick)
    baseline, brent, threads, cost = asyncio.run(measure_all(plan))
    return report(baseline, brent, plan, options, cost, (threads,))
