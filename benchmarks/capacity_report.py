"""The capacity suite's report: the cost table, the plot and the markdown section."""

from __future__ import annotations

import logging
from pathlib import Path

from benchmarks import Section, SuiteOptions
from benchmarks._figures import pyplot, ratio, table, verdict
from benchmarks._opus_path import PathCost
from benchmarks.capacity_suite import P99_LIMIT_MS, TARGET_STREAMS, Plan, Ramp

log = logging.getLogger(__name__)

CORES = 2.0


def cost_table(cost: PathCost, brent: Ramp) -> str:
    """Per-part CPU of each path, and the stream count each would reach if CPU were the only limit."""

    def streams(ms_per_s: float) -> str:
        return f"{CORES * 1000 / ms_per_s:.0f}" if ms_per_s > 0 else "n/a"

    rows = [
        ["ffmpeg: MP3 -> 48 kHz PCM", f"{cost.ffmpeg_pcm:.1f}", "", ""],
        ["bot: volume (audioop) on PCM", f"{cost.python_volume:.1f}", "", ""],
        ["bot: Opus encode (discord.opus.Encoder, no FEC, as shipped)", f"{cost.python_opus_encode_no_fec:.1f}", "", ""],
        ["ffmpeg: MP3 -> Ogg Opus (libopus)", "", f"{cost.ffmpeg_opus_encode:.1f}", ""],
        ["ffmpeg: Opus (webm) -> Ogg Opus, copied", "", "", f"{cost.ffmpeg_opus_copy:.1f}"],
        ["bot: read Ogg pages", "", f"{cost.python_ogg_read:.2f}", f"{cost.python_ogg_read:.2f}"],
        ["bot: encrypt (both paths)", f"{cost.python_encrypt:.2f}", f"{cost.python_encrypt:.2f}", f"{cost.python_encrypt:.2f}"],
        ["**sum, ms CPU per second of audio**", f"**{cost.pcm_path:.1f}**", f"**{cost.opus_encode_path:.1f}**",
         f"**{cost.opus_copy_path:.1f}**"],
        ["streams on 2 cores if CPU were the only limit", streams(cost.pcm_path), streams(cost.opus_encode_path),
         streams(cost.opus_copy_path)],
    ]
    measured = brent.cpu_ms_per_stream()
    for what, encode in (("PCM path with discord.py's default encoder (FEC on)", cost.python_opus_encode),
                         ("PCM path, FEC on and complexity 5", cost.python_opus_encode_c5)):
        total = cost.pcm_path_with(encode)
        rows.append([f"{what} (encode {encode:.1f}): sum", f"{total:.1f} ({streams(total)} streams)", "", ""])
    rows.append(["measured in the ramp (slope, incl. sockets, threads, the loop)", f"{measured:.1f}", "", ""])
    return table(["part (ms of CPU per second of one stream)", "PCM path (shipped)", "Opus, ffmpeg encodes",
                  "Opus, copied source"], rows)


# --- report ---------------------------------------------------------------------------------------


def capacity_plot(ramps: tuple[Ramp, ...], path: Path) -> Path:
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ramp, color in zip(ramps, ("#999999", "#2a7ab9", "#27ae60"), strict=False):
        x = [lv.streams for lv in ramp.levels]
        axes[0].plot(x, [lv.p99_ms for lv in ramp.levels], marker="o", color=color, label=f"{ramp.label} p99")
        axes[0].plot(x, [lv.max_ms for lv in ramp.levels], marker=".", linestyle=":", color=color, label=f"{ramp.label} max")
        axes[1].plot(x, [lv.cpu_cores * 100 for lv in ramp.levels], marker="o", color=color, label=ramp.label)
    axes[0].axhline(P99_LIMIT_MS, color="#c0392b", linestyle="--", linewidth=1, label="40 ms limit")
    axes[0].set_xlabel("concurrent guild streams")
    axes[0].set_ylabel("inter-packet gap (ms)")
    axes[0].set_yscale("log")
    axes[0].legend(fontsize=8)
    axes[0].set_title("pacing as streams are added")
    axes[1].set_xlabel("concurrent guild streams")
    axes[1].set_ylabel("CPU, % of one core (bot + ffmpeg)")
    axes[1].axhline(200, color="black", linewidth=0.5)
    axes[1].legend(fontsize=8)
    axes[1].set_title("CPU (the machine has 2 cores = 200 %)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def failed_text(ramps: tuple[Ramp, ...]) -> str:
    """Streams that never started count as silent in their level (which then does not hold)."""
    lines = [f"* {r.label}: {f}" for r in ramps for f in r.failed_starts]
    return ("**Streams that never started** (they count as silent streams):\n\n" + "\n".join(lines)) if lines else ""


def experiment_text(brent: Ramp, experiments: tuple[Ramp, ...]) -> str:
    if not experiments:
        return ""
    parts = [f"{r.label}: held {r.held} streams at {r.cpu_ms_per_stream():.1f} ms CPU per stream-second" for r in experiments]
    return (
        f"**Comparison in the same run.** {'; '.join(parts)}; BRENT as shipped (shared voice clocks): held"
        f" {brent.held} at {brent.cpu_ms_per_stream():.1f}. With a thread per guild, each of them wakes 50 times a"
        " second and must win the GIL to send its packet; with dozens of them the packets queue on the GIL"
        " hand-over (every 5 ms by default) rather than on the CPU. The clock sends every guild's packet in one"
        " pass per 20 ms tick, and reads ffmpeg's pipe in chunks of up to 64 kB instead of one system call per frame."
    )


def report(baseline: Ramp, brent: Ramp, plan: Plan, options: SuiteOptions, cost: PathCost | None = None,
           experiments: tuple[Ramp, ...] = ()) -> Section:
    options.img_dir.mkdir(parents=True, exist_ok=True)
    plot = capacity_plot((baseline, brent, *experiments), options.img_dir / "audio-capacity.png")
    rel = plot.relative_to(options.doc_dir).as_posix() if plot.is_relative_to(options.doc_dir) else str(plot)

    def row(name: str, b: float, r: float, fmt: str, target: str = "", ok: str = "") -> list[str]:
        return [name, fmt.format(b), fmt.format(r), ratio(r, b), target, ok]

    held_ratio = f"{brent.held / baseline.held:.2f}x" if baseline.held else "n/a"
    rows = [
        ["streams held (p99 <= 40 ms, no late burst, >= 98 % of the real-time packet rate)", str(baseline.held), str(brent.held), held_ratio,
         f">= {TARGET_STREAMS}" if not options.quick else "(quick run stops early)",
         verdict(brent.held, TARGET_STREAMS, at_least=True) if not options.quick else ""],
        row("CPU per stream (ms of CPU per second, slope)", baseline.cpu_ms_per_stream(), brent.cpu_ms_per_stream(), "{:.1f}"),
        row("bot RSS per playing guild (MB, slope)", baseline.mb_per_stream("rss_mb"), brent.mb_per_stream("rss_mb"), "{:.2f}"),
        row("ffmpeg RSS per stream (MB, slope; shared pages counted)", baseline.mb_per_stream("children_rss_mb"),
            brent.mb_per_stream("children_rss_mb"), "{:.2f}"),
        row(f"bot RSS per idle guild (kB, {plan.idle_guilds} guilds)", baseline.idle_kb_per_guild, brent.idle_kb_per_guild, "{:.1f}"),
        row("bot RSS at start (MB)", baseline.base_rss_mb, brent.base_rss_mb, "{:.0f}"),
    ]
    headline = table(["figure", "baseline", brent.label, "ratio", "target", "BRENT"], rows)
    level_rows = [
        [ramp.label, str(lv.streams), f"{lv.p50_ms:.1f} / {lv.p99_ms:.1f} / {lv.max_ms:.1f}", str(lv.over_40), str(lv.bursts),
         f"{lv.cpu_cores * 100:.0f} % ({lv.bot_cpu_cores * 100:.0f} % bot)", f"{lv.listener_cores * 100:.0f} %",
         f"{lv.machine_busy * 100:.0f} %", f"{lv.rss_mb:.0f} + {lv.children_rss_mb:.0f}", f"{lv.real_time * 100:.1f} %",
         "yes" if lv.holds else "**no**"]
        for ramp in (baseline, brent, *experiments) for lv in ramp.levels
    ]
    levels = table(["bot", "streams", "gap p50 / p99 / max (ms)", "gaps > 40 ms", "late bursts",
                    "CPU, bot + ffmpeg (of it the bot process)", "CPU, fake listener", "machine busy (2 cores)",
                    "RSS bot + ffmpeg (MB)", "packets delivered (of 50/s)", "holds"], level_rows)
    held_levels = [lv for lv in brent.levels if lv.holds]
    brent_bot_ms = (held_levels[-1].bot_cpu_cores * 1000 / held_levels[-1].streams) if held_levels else float("nan")
    markdown = f"""
Mode: {"quick" if options.quick else "full"} run; levels {", ".join(map(str, plan.levels))} (the ramp stops after
two levels in a row that do not hold, or after {plan.budget_s:.0f} s); {plan.window_s:.0f} s measurement window per level, 1 s after the
new streams started. Every stream plays the same long MP3 from the loopback server. The fake's listener records
arrival times only during this ramp (no Opus decoding), to leave the CPU to the bot; its own CPU and how busy the
whole machine was (other users' work included) are in the level table, since on 2 shared cores the listener and
the neighbours are part of why a level fails. "ffmpeg RSS" sums each
child's RSS, so pages shared between the ffmpeg processes are counted once per process (an upper bound).

{headline}

{levels}

{experiment_text(brent, experiments)}

{failed_text((baseline, brent, *experiments))}

![capacity]({rel})

Reproduce: `.venv/bin/python -m benchmarks.run --only capacity` (all three audio suites:
`--only audio_path --only capacity --only soak`; `--quick` for a smoke run into `benchmarks/results/`).

**Where a stream's CPU goes.** At the last level that held, the bot process itself uses about
{brent_bot_ms:.0f} ms of CPU per stream-second and the ffmpeg children a few more (level table). Of the bot's
share, Opus encoding is about {cost.python_opus_encode_no_fec if cost is not None else float("nan"):.0f} ms
(table below): BRENT asks discord.py's encoder for no in-band FEC, which halved it (FEC's redundancy only exists
in the SILK/hybrid modes speech uses, and it took bits from the music). The rest is per-packet Python: read the
pipe, scale the volume, build and encrypt the RTP packet, send it.

**Why one voice clock.** discord.py plays every voice connection on its own `AudioPlayer` thread, which wakes
50 times a second and needs the GIL for each packet; with dozens of them the packets queued on the GIL hand-over,
and that queueing, not the work, broke the 20 ms rhythm first (the comparison row above, and the profile:
the threads spent their time waiting to re-enter Python after the encoder and the socket). BRENT now connects
with `ClockedVoiceClient` (`audio/clocked_voice_client.py`): same `play()`, `pause()`, `stop()` and `after`
semantics, but the source is driven by `audio/voice_clock.py`, one thread that wakes once per 20 ms tick and
sends the due packet of every guild in one pass. Before reading, it asks the source whether a frame is there
(`TimedAudio.frame_ready` takes whatever the ffmpeg pipe holds in one non-blocking read, about 0.3 s of audio),
so a guild whose stream stalled misses its own packet slot and never holds up the others. A profile of the
clock at 50 streams: about two thirds of its time is inside libopus (which runs without the GIL), a seventh in
the socket send, a few per cent reading pipes, and little Python; so the bot runs two clocks (one on a
single-core machine), offset by half a frame, and the encodes of different guilds use both cores. Earlier experiments with the thread-per-guild design that did not raise the held count: libopus
complexity 5, ffmpeg at `nice` 10, and a 1 ms GIL switch interval (it only moved where the stalls fell). On this
2-core machine the failing levels coincide with the whole machine at 80-100 % busy ("machine busy", the fake
listener and other users' work included), so a level near that figure measured the machine, not the bot; the
per-stream CPU cost is what carries to another machine.

**PCM versus Opus pass-through.** Each part of a stream timed alone (CPU per second of audio; ffmpeg on a
generated {"10" if options.quick else "30"} s file, the bot's parts as discord.py runs them):

{cost_table(cost, brent) if cost is not None else "(not measured)"}

**Opus pass-through** (the table's two right-hand columns) is built: `TimedOpus` (`audio/timed_opus.py`) copies an
Opus source's packets (`-c:a copy` into Ogg) when the volume is 100 % and no filter is on; position counts the
packets' durations, a seek is a new ffmpeg at `-ss`, and the Deck hands over between Opus and PCM sources in one
voice play. A volume change or a filter goes over to the decoded path at the same position without a gap (a cued
source), and back. Its own ramp is the *Opus pass-through: streams, CPU and memory* section below.
"""
    return Section(title="Audio capacity: concurrent streams, CPU and memory", markdown=markdown,
                   console="\n".join([headline, "", levels]), plots=(plot,))
