"""Never stutter, part 1 of 3: latency, gaps between tracks, and pacing under lookups.

BRENT and the basic_voice.py baseline (``benchmarks/baseline_bot.py``) each run in a process of
their own against a fresh loopback fake Discord, in the same run, with the same generated media
from the same loopback HTTP server. Measured from the fake's packet arrival times:

* command-to-first-packet latency, joining voice first and already in voice: each sample is the
  first ``play`` of a bot process started for it (BRENT: ``python main.py``), sent as soon as the
  bot is online (``benchmarks/_fresh_bot.py``), so nothing a long-running bot has built counts;
* the interval from the last packet of a track to the first packet of the queued next one;
* inter-packet gaps of one stream alone, and while four other guilds each run ``lookup`` back to
  back (one yt-dlp search/playlist lookup's worth of CPU, see ``benchmarks/_lookup_job.py``), with
  BRENT's extractor work in threads, a process pool and a subprocess per lookup.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field

import numpy as np

from audio.executors import ExecutorMode
from benchmarks import Section, SuiteOptions
from benchmarks._figures import Spread
from benchmarks._fresh_bot import Entry, FirstPlay, first_plays
from benchmarks._latency_budget import latency_budget
from benchmarks._voice_rig import (
    FRAME_MS,
    SHIPPED_EXECUTOR_MODE,
    TONE_A_HZ,
    TONE_B_HZ,
    BotUnderTest,
    Listener,
    Media,
    audio_packets,
    changeover_interval_ms,
    listener_without_gc_pauses,
    percentile,
    serve_media,
    stream_gaps_ms,
    wait_playing,
)
from tests.fakediscord import FakeDiscord

log = logging.getLogger(__name__)

NAME = "audio_path"
ORDER = 20
LOOKUP_GUILDS = 4
LOOKUP_ENTRIES = 10

TARGET_IN_VOICE_MS = 30.0  # in every run, like the join target
TARGET_JOIN_MS = 150.0
TARGET_TRANSITION_MS = 20.0
TARGET_P99_ALONE_MS = 25.0
TARGET_P99_LOADED_MS = 30.0


@dataclass(frozen=True, slots=True)
class Plan:
    reps: int  # fresh bot processes per first-play figure (and latency budget repeats)
    transitions: int
    window_s: float  # each gap-measurement window

    @classmethod
    def of(cls, quick: bool) -> Plan:
        return cls(reps=3, transitions=2, window_s=4.0) if quick else cls(reps=10, transitions=4, window_s=12.0)


@dataclass
class PathResult:
    label: str
    join_ms: list[float] = field(default_factory=list)
    in_voice_ms: list[float] = field(default_factory=list)
    transition_ms: list[float] = field(default_factory=list)  # the packet interval at the seam
    online_s: list[float] = field(default_factory=list)  # each fresh process: start to identified
    load: list[float] = field(default_factory=list)  # the 1-minute load average at each first play

    @property
    def silence_ms(self) -> list[float]:
        """What a listener hears of the seam: its interval minus the 20 ms the last packet plays."""
        return [max(0.0, t - FRAME_MS) for t in self.transition_ms]
    gaps_alone: np.ndarray = field(default_factory=lambda: np.empty(0))
    gaps_loaded: np.ndarray = field(default_factory=lambda: np.empty(0))
    lookups: int = 0
    lookup_s: float = 0.0  # wall time of the loaded window, for lookups per second


def gap_summary(gaps: np.ndarray) -> str:
    if not gaps.size:
        return "n/a"
    return f"{percentile(gaps, 50):.1f} / {percentile(gaps, 99):.1f} / {gaps.max():.1f}"


def transition_interval_ms(bot: BotUnderTest, who: Listener, since: float) -> float:
    """Last packet of tone_a to first of tone_b, as the longest packet interval around that seam."""
    return changeover_interval_ms(audio_packets(bot, who, since), TONE_A_HZ, TONE_B_HZ)


def add_first_plays(result: PathResult, plays: dict[Entry, list[FirstPlay]]) -> None:
    result.join_ms = [p.latency_ms for p in plays[Entry.JOINING]]
    result.in_voice_ms = [p.latency_ms for p in plays[Entry.IN_VOICE]]
    every = [p for runs in plays.values() for p in runs]
    result.online_s = [p.ready_s for p in every]
    result.load = [p.load for p in every]


async def transitions(bot: BotUnderTest, media: Media, plan: Plan, result: PathResult) -> None:
    """A track and the next queued behind it, with the bot in voice already (a seam, not a join)."""
    for i, who in enumerate(await bot.add_listeners(plan.transitions)):
        await bot.say(who, f"join {who.guild.voice_channel.id}")
        await bot.fake.wait_for_bot_voice(who.guild, who.guild.voice_channel, timeout=30)
        recorder = bot.fake.voice_log(who.guild)
        sent = await bot.say(who, f"play {media.url('tone_a.mp3', f't{i}')}")
        await bot.ask(who, f"play {media.url('tone_b.mp3', f't{i}')}")
        await recorder.wait_for_audio(2 * media.short_seconds - 0.15, timeout=30, after=sent.sent_at)
        await recorder.wait_for_silence(timeout=20, after=sent.sent_at)
        result.transition_ms.append(transition_interval_ms(bot, who, sent.sent_at))


async def pacing(bot: BotUnderTest, media: Media, plan: Plan, result: PathResult) -> None:
    [player, *others] = await bot.add_listeners(1 + LOOKUP_GUILDS)
    # Warm-up, untimed: a process pool starts its workers on first use, which a running bot did long ago.
    await asyncio.gather(*(bot.ask(who, "lookup 1", "looked up", timeout=120) for who in others))
    sent = await bot.say(player, f"play {media.url('long.mp3')}")
    first = await wait_playing(bot, player, sent.sent_at, seconds=1.0)
    start = first + 1.0
    with listener_without_gc_pauses():
        await asyncio.sleep(plan.window_s)  # the measurement window itself: nothing to wait for
    result.gaps_alone = stream_gaps_ms(audio_packets(bot, player, start, start + plan.window_s))

    stop_at = time.perf_counter() + plan.window_s + 0.5
    done = 0

    async def keep_looking_up(who: Listener) -> None:
        nonlocal done
        while time.perf_counter() < stop_at:
            await bot.ask(who, f"lookup {LOOKUP_ENTRIES}", "looked up", timeout=120)
            done += 1

    load_started = time.perf_counter()
    with listener_without_gc_pauses():
        await asyncio.gather(*(keep_looking_up(who) for who in others))
    load_ended = time.perf_counter()
    # From the first lookup's start (plus a beat for the commands to arrive) to the window's end.
    result.gaps_loaded = stream_gaps_ms(audio_packets(bot, player, load_started + 0.2, min(stop_at, load_ended)))
    result.lookups = done
    result.lookup_s = load_ended - load_started
    await bot.ask(player, "stop", None)


async def measure(kind: str, mode: str, media: Media, plan: Plan, *, first: PathResult | None = None) -> PathResult:
    """Seams and pacing on one long-running bot; ``first`` (already holding the first plays) gets them."""
    async with FakeDiscord() as fake, BotUnderTest.start(fake, kind, mode=mode) as bot:
        result = first or PathResult(bot.label)
        if first is not None:
            await transitions(bot, media, plan, result)
        await pacing(bot, media, plan, result)
        log.info("%s: join %s, in voice %s, transition %s, gaps alone %s, loaded %s (%d lookups)", bot.label,
                 Spread.of(result.join_ms).distribution(), Spread.of(result.in_voice_ms).distribution(),
                 Spread.of(result.transition_ms).text(), gap_summary(result.gaps_alone),
                 gap_summary(result.gaps_loaded), result.lookups)
        return result


@dataclass(frozen=True, slots=True)
class Measured:
    baseline: PathResult
    brent: PathResult
    modes: list[PathResult]
    budget: dict[str, Spread]


async def measure_all(plan: Plan) -> Measured:
    long_s = 2 * plan.window_s + 30
    with serve_media(long_seconds=long_s) as media:
        budget = await asyncio.to_thread(
            latency_budget, media.url("tone_a.mp3"), media.url("tone_a.webm"), plan.reps
        )
        shipped = f"BRENT ({SHIPPED_EXECUTOR_MODE.value})"
        fresh = {"baseline": PathResult("baseline"), "brent": PathResult(shipped)}
        for kind, result in fresh.items():
            add_first_plays(result, await first_plays(kind, media, plan.reps))
        baseline = await measure("baseline", "thread", media, plan, first=fresh["baseline"])
        brent = await measure("brent", SHIPPED_EXECUTOR_MODE.value, media, plan, first=fresh["brent"])
        modes = [brent]
        for mode in ExecutorMode:
            if mode is not SHIPPED_EXECUTOR_MODE:
                modes.append(await measure("brent", mode.value, media, plan))
        return Measured(baseline, brent, modes, budget)


# --- report -------------------------------------------------------------------------------------


def run(options: SuiteOptions) -> Section:
    from benchmarks.audio_path_report import report  # it reads this module's results

    plan = Plan.of(options.quick)
    measured = asyncio.run(measure_all(plan))
    return report(measured.baseline, measured.brent, measured.modes, plan, options, measured.budget)
