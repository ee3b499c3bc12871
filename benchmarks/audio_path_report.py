"""The audio path suite's report: latency and gap plots, the latency budget table, findings."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from benchmarks import Section, SuiteOptions
from benchmarks._figures import Spread, pyplot, ratio, table, verdict
from benchmarks._voice_rig import (
    late_bursts,
    percentile,
)
from benchmarks.audio_path_suite import (
    LOOKUP_ENTRIES,
    LOOKUP_GUILDS,
    TARGET_IN_VOICE_MS,
    TARGET_JOIN_MS,
    TARGET_P99_ALONE_MS,
    TARGET_P99_LOADED_MS,
    TARGET_TRANSITION_MS,
    PathResult,
    Plan,
    gap_summary,
)

log = logging.getLogger(__name__)

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
    resolve, standby = _step(budget, "BRENT: resolve_all"), _step(budget, "BRENT: standby ffmpeg")
    base = _step(budget, "baseline: extract_info") + _step(budget, "baseline: FFmpegPCMAudio")
    rows.append(["**critical path: BRENT the longer of resolve and standby ffmpeg for a pasted file (opened ahead),"
                 " their sum for other links / baseline yt-dlp + fresh ffmpeg**",
                 f"**{max(resolve, standby):.0f} ms, {resolve + standby:.0f} ms / {base:.0f} ms**"])
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
        f" ~{fresh:.0f} ms for a fresh process. The link here is a pasted audio file, which the bot opens *ahead*"
        " (`bot/head_start.py`): the standby gets its script while yt-dlp is still looking the link up"
        f" (~{resolve:.0f} ms in a warm worker process at `nice` 10), and the resolved track takes that very process,"
        " so the two steps overlap instead of adding up; a replacement standby starts 0.3 s after a hand-out rather"
        " than at once, so its process start does not take a core from the opening stream. What remains is the"
        " longer of the two, the hops to the worker and back, and the voice clock's first packet (sent as soon as a"
        " frame is there, not on the next 20 ms tick). A page link (YouTube, SoundCloud) cannot be opened ahead (its"
        " media URL is only known from the lookup) and pays both steps. A packet's arrival is the kernel's receive"
        " time at the fake's socket. Joining overlaps the lookup with the voice handshake (cogs/playback.py), so it"
        " costs the handshake.",
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
