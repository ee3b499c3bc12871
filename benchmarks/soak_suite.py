"""Never stutter, part 3 of 3: a soak of many very short tracks back to back through BRENT.

One guild; a member keeps the queue a few tracks ahead with ``play`` (every track a distinct URL of
a short generated MP3, so each goes through the whole path: the play command, yt-dlp, a new
ffmpeg, the changeover). The bot process's resident memory, open descriptors and child processes
are sampled at start, after warm-up and every few tracks, and at the end, once the last track has
played and the bot is idle again. psutil sees the process from outside (RSS); Python's own
allocations are traced inside it (``tracemalloc``, read with a ``heap`` command the benchmark
adds). Growth is judged after warm-up, on both: the allocator and yt-dlp's caches settle in the
first tracks.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from benchmarks import Section, SuiteOptions
from benchmarks._figures import pyplot, table, verdict
from benchmarks._voice_rig import SHIPPED_EXECUTOR_MODE, BotUnderTest, HeapReport, Usage, serve_media
from tests.fakediscord import FakeDiscord

log = logging.getLogger(__name__)

NAME = "soak"
ORDER = 40
AHEAD = 4  # tracks kept queued beyond the one playing
GROWTH_LIMIT_MB = 5.0


@dataclass(frozen=True, slots=True)
class Plan:
    tracks: int
    warmup: int
    track_seconds: float
    sample_every: int

    @classmethod
    def of(cls, quick: bool) -> Plan:
        return cls(30, 10, 0.4, 5) if quick else cls(500, 50, 0.4, 25)


@dataclass
class Soak:
    label: str
    start: Usage | None = None
    warm: Usage | None = None
    end: Usage | None = None
    samples: list[tuple[int, Usage]] = field(default_factory=list)
    tracks_heard: float = 0.0
    wall_s: float = 0.0
    transition_ms: np.ndarray = field(default_factory=lambda: np.empty(0))
    errors: int = 0
    heap: HeapReport | None = None  # Python allocations made after warm-up and alive at the end


def _finished(audio_s: float, plan: Plan) -> int:
    return int(audio_s / plan.track_seconds + 0.25)


async def soak(plan: Plan) -> Soak:
    with serve_media(long_seconds=5, soak_seconds=plan.track_seconds) as media:
        async with FakeDiscord() as fake, BotUnderTest.start(fake, "brent", mode=SHIPPED_EXECUTOR_MODE.value) as bot:
            result = Soak(bot.label)
            result.start = bot.usage()
            [who] = await bot.add_listeners(1)
            recorder = fake.voice_log(who.guild)
            began = time.perf_counter()
            sent = 0
            next_sample = 0
            while sent < plan.tracks:
                done = _finished(recorder.audio_seconds(after=began), plan)
                if done >= next_sample:
                    result.samples.append((done, bot.usage()))
                    if result.warm is None and done >= plan.warmup:
                        result.warm = result.samples[-1][1]
                        await bot.start_heap_trace(who)
                    next_sample += plan.sample_every
                if sent - done <= AHEAD:
                    await bot.ask(who, f"play {media.url('soak.mp3', sent)}", None, timeout=60)
                    sent += 1
                else:
                    target = (done + 1) * plan.track_seconds - 0.2
                    await recorder.wait_for_audio(target, timeout=60, after=began)
            await recorder.wait_for_audio(plan.tracks * plan.track_seconds - 0.3, timeout=120, after=began)
            await recorder.wait_for_silence(timeout=30, after=began)
            result.wall_s = time.perf_counter() - began
            result.tracks_heard = recorder.audio_seconds(after=began) / plan.track_seconds
            if result.warm is None:
                result.warm = result.samples[-1][1]
            result.end = await settled_usage(bot)
            result.heap = await bot.traced_heap(who)
            result.samples.append((plan.tracks, result.end))
            arrivals = np.asarray([p.arrival for p in recorder.audio_packets(after=began)])
            gaps = np.diff(arrivals) * 1000 if arrivals.size > 1 else np.empty(0)
            result.transition_ms = gaps[gaps > 30]
            result.errors = len(recorder.errors)
            return result


async def settled_usage(bot: BotUnderTest, timeout: float = 10.0) -> Usage:
    """Usage once the last ffmpeg has been reaped (the player retires it just after the track ends)."""
    deadline = time.perf_counter() + timeout
    usage = bot.usage()
    while "ffmpeg" in usage.children and time.perf_counter() < deadline:
        await asyncio.sleep(0.1)
        usage = bot.usage()
    return usage


def soak_plot(result: Soak, path: Path) -> Path:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 3.6))
    x = [n for n, _ in result.samples]
    ax.plot(x, [u.rss_bytes / 2**20 for _, u in result.samples], marker=".", label="bot RSS (MB)")
    ax2 = ax.twinx()
    ax2.plot(x, [u.fds for _, u in result.samples], color="#c0392b", marker=".", label="open descriptors")
    ax.set_xlabel("tracks played")
    ax.set_ylabel("RSS (MB)")
    ax2.set_ylabel("descriptors")
    fig.legend(loc="lower right", fontsize=8)
    ax.set_title(f"Soak: {result.samples[-1][0]} short tracks back to back")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def report(result: Soak, plan: Plan, options: SuiteOptions) -> Section:
    assert result.start and result.warm and result.end
    options.img_dir.mkdir(parents=True, exist_ok=True)
    plot = soak_plot(result, options.img_dir / "audio-soak.png")
    rel = plot.relative_to(options.doc_dir).as_posix() if plot.is_relative_to(options.doc_dir) else str(plot)
    tracing = result.heap.tracemalloc_bytes if result.heap else 0
    growth = (result.end.rss_bytes - tracing - result.warm.rss_bytes) / 2**20
    heap_mb = result.heap.traced_bytes / 2**20 if result.heap else float("nan")
    leaked_children = [c for c in result.end.children if c not in result.start.children]
    rows = [
        ["bot RSS (MB)", f"{result.start.rss_bytes / 2**20:.1f}", f"{result.warm.rss_bytes / 2**20:.1f}",
         f"{result.end.rss_bytes / 2**20:.1f}", f"growth after warm-up {growth:+.1f} MB (less tracemalloc's"
         f" own {tracing / 2**20:.1f} MB)",
         verdict(growth, GROWTH_LIMIT_MB)],
        ["Python allocations made after warm-up and still alive (tracemalloc, MB)", "", "0 (tracing starts)",
         f"{heap_mb:.2f}", f"growth after warm-up {heap_mb:+.2f} MB", verdict(heap_mb, GROWTH_LIMIT_MB)],
        ["open descriptors", str(result.start.fds), str(result.warm.fds), str(result.end.fds),
         f"{result.end.fds - result.start.fds:+d} vs start", verdict(result.end.fds - result.warm.fds, 0)],
        ["child processes", ", ".join(result.start.children) or "none", ", ".join(result.warm.children) or "none",
         ", ".join(result.end.children) or "none", f"{len(leaked_children)} new at the end",
         verdict(len(leaked_children), 0)],
    ]
    figures = table(["", "start", f"after {plan.warmup} tracks", "end", "change", "target"], rows)
    tr = result.transition_ms
    markdown = f"""
Mode: {"quick" if options.quick else "full"} run: {plan.tracks} tracks of {plan.track_seconds:.1f} s through {result.label},
{AHEAD} kept queued ahead by `play` commands; {result.tracks_heard:.1f} tracks' worth of audio heard in {result.wall_s:.0f} s;
{result.errors} undecodable packets. "End" is sampled once the bot is idle and its last ffmpeg has exited.

{figures}

Where those allocations live (tracemalloc, by file): {result.heap.top_files if result.heap else "n/a"}.

What the growth is (300-track soaks during development, same bench): the Python-level part is mostly
discord.py's message cache (`message.py`, `state.py`: every `play`, reply and announcement is cached until
`max_messages=1000` is reached, so it is bounded); with `max_messages=None` passed to the bot the traced growth
fell from about 1.0 to 0.5 MB. Before the Extractor kept one `YoutubeDL` per worker (commit 7623756), every lookup
built a new one whose first request created an OpenSSL context and loaded the CA bundle (two per track), and RSS
crept by 4-6 MB over 450 tracks outside Python's heap (the same with `MALLOC_ARENA_MAX=2`, so not arena spread);
this run has the reuse. Tracing adds its own cost, so the soak's pacing is not a pacing figure: the audio-path
section is.

Inter-packet intervals longer than 30 ms over the whole soak (changeovers, and any stall): {tr.size}{f" (median {np.median(tr):.0f} ms, max {tr.max():.0f} ms)" if tr.size else ""}.

![soak]({rel})

Reproduce: `.venv/bin/python -m benchmarks.run --only soak` (`--quick`: {Plan.of(True).tracks} tracks, into `benchmarks/results/`).
"""
    return Section(title="Audio soak: many tracks back to back", markdown=markdown, console=figures,
                   plots=(plot,))


def run(options: SuiteOptions) -> Section:
    plan = Plan.of(options.quick)
    return report(asyncio.run(soak(plan)), plan, options)
