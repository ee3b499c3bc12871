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
from pathlib import Path

import numpy as np

from audio.executors import ExecutorMode
from benchmarks import Section, SuiteOptions
from benchmarks._figures import Spread, pyplot, ratio, table, verdict
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
    late_bursts,
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
        budget = await asyncio.to_thread(latency_budget, media.url("tone_a.mp3"), plan.reps)
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


def latency_plot(baseline: PathResult, brent: PathResult, path: Path) -> Path:
    plt = pyplot()
    figures = (("first play, joining voice", "join_ms", TARGET_JOIN_MS),
               ("first play, in voice", "in_voice_ms", TARGET_IN_VOICE_MS),
               ("silence between queued tracks", "silence_ms", TARGET_TRANSITION_MS))
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.6))
    for ax, (title, attr, target) in zip(axes, figures, strict=True):
        for x, result in enumerate((baseline, brent)):
            values = getattr(result, attr)
            spread = Spread.of(values)
            ax.bar(x, spread.p50, color=("#999999", "#2a7ab9")[x])
            ax.scatter([x] * len(values), values, color="black", s=10, zorder=3)
        ax.axhline(target, color="#c0392b", linestyle="--", linewidth=1, label=f"target {target:.0f} ms")
        ax.set_xticks([0, 1], ["baseline", "BRENT"])
        ax.set_title(title)
        ax.set_ylabel("ms")
        ax.legend(fontsize=8)
    fig.suptitle("Command to first packet of a fresh bot process, and silence between queued tracks"
                 " (bars p50, dots each run)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def gap_plot(baseline: PathResult, modes: list[PathResult], path: Path) -> Path:
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    series = [(baseline.label, baseline, "#999999")] + [
        (r.label, r, c) for r, c in zip(modes, ("#2a7ab9", "#27ae60", "#8e44ad"), strict=False)
    ]
    for ax, attr, title in ((axes[0], "gaps_alone", "one stream alone"),
                            (axes[1], "gaps_loaded", f"during {LOOKUP_GUILDS} concurrent lookups")):
        for label, result, color in series:
            gaps = np.sort(getattr(result, attr))
            if gaps.size:
                ax.plot(gaps, 1.0 - np.arange(gaps.size) / gaps.size, label=label, color=color)
        ax.set_yscale("log")
        ax.set_xlabel("inter-packet gap (ms)")
        ax.set_ylabel("fraction of gaps longer")
        ax.axvline(20, color="black", linewidth=0.5)
        ax.set_title(title)
        ax.legend(fontsize=8)
    fig.suptitle("Inter-packet gap distribution (complementary CDF; 20 ms is on time)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _step(budget: dict[str, Spread], prefix: str) -> float:
    return next((sp.p50 for name, sp in budget.items() if name.startswith(prefix)), float("nan"))


def budget_table(budget: dict[str, Spread]) -> str:
    if not budget:
        return "(not measured)"
    rows = [[name, spread.text()] for name, spread in budget.items()]
    critical = _step(budget, "BRENT: resolve_all") + _step(budget, "BRENT: standby ffmpeg")
    base = _step(budget, "baseline: extract_info") + _step(budget, "baseline: FFmpegPCMAudio")
    rows.append(["**critical path: BRENT resolve + standby ffmpeg / baseline yt-dlp + fresh ffmpeg**",
                 f"**{critical:.0f} ms / {base:.0f} ms**"])
    return table(["step of `play` (each timed alone, in the benchmark process)", "ms p50 (min-max, n)"], rows)


def findings(baseline: PathResult, brent: PathResult, modes: list[PathResult], budget: dict[str, Spread]) -> str:
    """What the numbers say, target by target, and what made the difference."""
    resolve = _step(budget, "BRENT: resolve_all")
    standby = _step(budget, "BRENT: standby ffmpeg")
    probe = _step(budget, "BRENT, after the reply path: ffprobe")
    fresh = _step(budget, "BRENT, when no standby is ready")
    ffmpeg_start = _step(budget, "either: an ffmpeg process start")
    by_mode = {r.label: percentile(r.gaps_loaded, 99) for r in modes}
    best_mode = min(by_mode, key=lambda k: by_mode[k]) if by_mode else "n/a"
    seam = Spread.of(brent.transition_ms).p50
    lines = [
        "**Findings.**",
        "",
        f"* *First packet of a fresh bot (in voice {Spread.of(brent.in_voice_ms).p50:.0f} ms median,"
        f" {Spread.of(brent.in_voice_ms).high:.0f} ms worst; joining {Spread.of(brent.join_ms).p50:.0f} /"
        f" {Spread.of(brent.join_ms).high:.0f} ms; baseline {Spread.of(baseline.in_voice_ms).p50:.0f} /"
        f" {Spread.of(baseline.join_ms).p50:.0f} ms median).* Each figure is the first `play` of a process started for"
        " it, so whatever a bot builds lazily would land on it. BRENT builds all of it before it identifies"
        " (`BrentBot.login`): the lookup workers start and warm together (an interpreter, the yt-dlp import, a"
        " YoutubeDL, the allowed extractors' patterns and modules, one request through the egress gate each), the"
        " standby ffmpeg starts first and has loaded by then, and the voice clocks run. That is why it comes online"
        f" later than the baseline ({Spread.of(brent.online_s).p50:.1f} s vs {Spread.of(baseline.online_s).p50:.1f} s"
        f" median). Starting any process costs ~{ffmpeg_start:.0f} ms on this machine, and none is started on the"
        " path: `play` queues a direct file with its length unknown and measures it afterwards"
        f" (`bot/late_duration.py`, `Extractor.measure`; ffprobe ~{probe:.0f} ms, while the track already plays), and"
        " a track that starts at 0:00 hands the waiting standby ffmpeg (`audio/ffmpeg_standby.py`, `FFMPEG_STANDBY`,"
        f" default 1) an ffconcat script naming the URL: its first PCM frame follows in ~{standby:.0f} ms instead of"
        f" ~{fresh:.0f} ms for a fresh process. What remains is the lookup itself (yt-dlp ~{resolve:.0f} ms in a warm"
        " worker process, which runs at `nice` 10 and so is the step other load on the machine stretches most), the"
        " hops to the worker and back, the standby's HTTP open through the egress gate, and the voice clock's first"
        " packet (sent as soon as a frame is there, not on the next 20 ms tick). Joining overlaps the lookup with the"
        " voice handshake (cogs/playback.py), so it costs the handshake.",
        f"* *Changeover (seam interval {seam:.1f} ms, baseline {Spread.of(baseline.transition_ms).p50:.0f} ms).* The"
        " next track's ffmpeg starts 3 s before the current one ends, and a guild's tracks now play through one"
        " long-lived source (`audio/deck.py`): when the current TimedAudio ends cleanly, the same `read()` returns"
        " the first frame of the armed next one, so the voice play never stops and no 20 ms slot is"
        " missed; the player catches up with the switch on its event loop. A gapless seam is one frame period, 20 ms"
        " from the last packet of one track to the first of the next, which is 0 ms of silence.",
        f"* *Pacing.* Alone, the baseline is paced by discord.py's `AudioPlayer` thread and BRENT by its shared voice"
        " clock (`audio/voice_clock.py`), and their p99 differ by noise of this shared machine. With yt-dlp work in"
        " threads, the lookups compete with the sending thread for the GIL and for the two cores; in another process at lower priority (`nice` 10, which only a"
        f" process can have) they only take idle CPU. Lowest loaded p99 here: {best_mode}. A subprocess per"
        " lookup isolates as well but pays an interpreter start and the yt-dlp import for every lookup, so it"
        " gets through far fewer lookups on two cores. BRENT ships `EXTRACTOR_MODE=process` with its workers"
        " warmed up at start-up.",
    ]
    return "\n".join(lines)


def report(baseline: PathResult, brent: PathResult, modes: list[PathResult], plan: Plan, options: SuiteOptions,
           budget: dict[str, Spread] | None = None) -> Section:
    options.img_dir.mkdir(parents=True, exist_ok=True)
    plots = (latency_plot(baseline, brent, options.img_dir / "audio-latency.png"),
             gap_plot(baseline, modes, options.img_dir / "audio-gaps.png"))
    rel = [p.relative_to(options.doc_dir).as_posix() if p.is_relative_to(options.doc_dir) else str(p) for p in plots]

    def p50(values: list[float]) -> float:
        return Spread.of(values).p50

    rows = []
    for name, attr, target in (("\\play to first packet, already in voice (fresh process each)", "in_voice_ms",
                                TARGET_IN_VOICE_MS),
                               ("\\play to first packet, joining voice (fresh process each)", "join_ms",
                                TARGET_JOIN_MS)):
        b, r = Spread.of(getattr(baseline, attr)), Spread.of(getattr(brent, attr))
        rows.append([name, b.distribution(), r.distribution(), ratio(r.p50, b.p50), f"<= {target:.0f} ms every run",
                     verdict(r.high, target)])
    b_online, r_online = Spread.of(baseline.online_s), Spread.of(brent.online_s)
    rows.append(["process start to online (identified), s", b_online.distribution("s"), r_online.distribution("s"),
                 ratio(r_online.p50, b_online.p50), "", ""])
    b, r = baseline.silence_ms, brent.silence_ms
    rows.append(["silence between queued tracks (seam interval - 20 ms)", Spread.of(b).text(), Spread.of(r).text(),
                 ratio(p50(r), p50(b)), f"<= {TARGET_TRANSITION_MS:.0f} ms p50", verdict(p50(r), TARGET_TRANSITION_MS)])
    b, r = baseline.transition_ms, brent.transition_ms
    rows.append(["last packet of a track to first of the queued next (gapless = 20 ms)", Spread.of(b).text(),
                 Spread.of(r).text(), ratio(p50(r), p50(b)), "", ""])
    for name, attr, target in (("gap p99, one stream alone", "gaps_alone", TARGET_P99_ALONE_MS),
                               (f"gap p99, during {LOOKUP_GUILDS} lookups", "gaps_loaded", TARGET_P99_LOADED_MS)):
        b99, r99 = percentile(getattr(baseline, attr), 99), percentile(getattr(brent, attr), 99)
        rows.append([name, f"{b99:.1f} ms", f"{r99:.1f} ms", ratio(r99, b99), f"<= {target:.0f} ms",
                     verdict(r99, target)])
    for other in modes:
        if other is not brent:
            b99, r99 = percentile(baseline.gaps_loaded, 99), percentile(other.gaps_loaded, 99)
            rows.append([f"gap p99, during {LOOKUP_GUILDS} lookups, {other.label}", f"{b99:.1f} ms", f"{r99:.1f} ms",
                         ratio(r99, b99), f"<= {TARGET_P99_LOADED_MS:.0f} ms", verdict(r99, TARGET_P99_LOADED_MS)])
    headline = table(["figure (first plays: min / median / p95 / max)", "baseline", f"{brent.label}", "ratio", "target",
                      "BRENT"], rows)

    gap_rows = []
    for result in [baseline, *modes]:
        for attr, what in (("gaps_alone", "alone"), ("gaps_loaded", "4 lookups")):
            gaps = getattr(result, attr)
            gap_rows.append([result.label, what, gap_summary(gaps), str(int((gaps > 40).sum())) if gaps.size else "n/a",
                             str(late_bursts(gaps)) if gaps.size else "n/a",
                             f"{result.lookups / result.lookup_s:.2f}/s" if attr == "gaps_loaded" and result.lookup_s else ""])
    gaps_table = table(["bot", "load", "gap p50 / p99 / max (ms)", "gaps > 40 ms", "late bursts", "lookups done"], gap_rows)

    markdown = f"""
Mode: {"quick" if options.quick else "full"} run. First packet: {plan.reps} runs per figure, each the first `play`
of a bot process started for it (BRENT: `python main.py`; the baseline: `benchmarks/_bot_process.py`), sent the
moment the bot has identified (when Discord shows it online), against a fake Discord of its own; "already in voice"
is `join` then `play`, "joining voice" is `play` with the bot in no channel. The machine's 1-minute load average at
those commands was {Spread.of(brent.load + baseline.load).distribution("")} (2 cores, shared). Transitions:
{plan.transitions}; gap windows {plan.window_s:.0f} s each, on one long-running bot per kind. Each bot runs in its
own process (so CPU time, memory and the GIL are the bot's alone: the fake decrypts, decodes and keeps every packet),
one after the other in the same run; media (MP3, 48 kHz stereo tones) come from one loopback HTTP server. Lower is
better everywhere; "ratio" is BRENT / baseline (of the medians).

{headline}

![latency]({rel[0]})

**Where the time to the first packet goes.** The steps of each bot's `play` of a direct file, each timed
alone on the same media (the profile behind the figures above; see the findings below):

{budget_table(budget or {})}

**Pacing and where yt-dlp runs.** The "lookup" load: four other guilds each send `lookup` back to back for
the whole window; one lookup is `json.loads` of a page-sized JSON document plus yt-dlp's `process_ie_result`
on a {LOOKUP_ENTRIES}-entry playlist of YouTube-shaped entries (format sorting and selection), about the CPU
of a real search or playlist resolve, with no network. The baseline runs it in the loop's default thread pool
(as `YTDLSource.from_url` does); BRENT runs it on its Extractor's executor in each mode.

{gaps_table}

![gaps]({rel[1]})

{findings(baseline, brent, modes, budget or {})}

Reproduce: `.venv/bin/python -m benchmarks.run --only audio_path` (add `--quick` for a smoke run that writes to
`benchmarks/results/`). The bots under test are `benchmarks/_bot_process.py` (BRENT from `create_bot`, or
`benchmarks/baseline_bot.py`), pointed at `tests/fakediscord` through `FakeDiscord.subprocess_env()`.
"""
    console = "\n".join([headline, "", gaps_table])
    return Section(title="Audio path: latency, changeovers, pacing", markdown=markdown, console=console,
                   plots=plots)


def run(options: SuiteOptions) -> Section:
    plan = Plan.of(options.quick)
    measured = asyncio.run(measure_all(plan))
    return report(measured.baseline, measured.brent, measured.modes, plan, options, measured.budget)
