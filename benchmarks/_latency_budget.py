"""Where the time from ``play`` to the first packet goes: each serial step of both bots, timed alone.

BRENT's ``play`` of a direct file runs the Extractor's ``resolve_all`` (yt-dlp's generic extractor,
with ``ffprobe`` for the duration the generic extractor does not give started alongside it), the
player's ``stream(track)`` (which reuses the Stream the resolve handed back when it is fresh, else
looks again), then ffmpeg until its first 20 ms of PCM. The baseline runs one ``extract_info`` and
ffmpeg. Each step is run here on its
own, in this process, against the same loopback media, so the suite can say which step a miss
comes from without guessing.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import time
from collections.abc import Callable

import discord
import yt_dlp

from audio.extractor import (
    ExtractJob,
    ExtractorConfig,
    JobKind,
    allowed_extractors_for,
    probe_duration,
    run_job,
)
from audio.timed_audio import TimedAudio
from audio.track import Stream
from audio.url_policy import UrlPolicy
from benchmarks._figures import Spread
from benchmarks.baseline_bot import FFMPEG_OPTIONS, YTDL_FORMAT_OPTIONS

log = logging.getLogger(__name__)


def _timed(step: Callable[[], object]) -> float:
    started = time.perf_counter()
    step()
    return (time.perf_counter() - started) * 1000


def _first_frame(source: discord.AudioSource) -> None:
    try:
        while not source.read():
            pass
    finally:
        source.cleanup()


def latency_budget(url: str, reps: int) -> dict[str, Spread]:
    """Median/min/max milliseconds of each step, ``reps`` times each (after one untimed warm-up)."""
    policy = UrlPolicy(allow_private_network=True)
    config = ExtractorConfig(allowed_extractors=allowed_extractors_for(policy.allowed_providers), ffprobe=None)
    ffprobe = shutil.which("ffprobe") or "ffprobe"
    ffmpeg = shutil.which("ffmpeg") or "ffmpeg"
    resolve = ExtractJob(JobKind.RESOLVE_ALL, url, True, policy, config)
    stream_job = ExtractJob(JobKind.STREAM, url, True, policy, config)
    ytdl = yt_dlp.YoutubeDL(YTDL_FORMAT_OPTIONS)
    steps: dict[str, Callable[[], object]] = {
        "BRENT: resolve_all, yt-dlp part": lambda: run_job(resolve),
        "BRENT: resolve_all, ffprobe for the duration (runs alongside yt-dlp)": lambda: probe_duration(
            ffprobe, url, {}, 10.0
        ),
        "BRENT: stream(track) when it must look again (not on a first play)": lambda: run_job(stream_job),
        "BRENT: ffmpeg start to first PCM frame": lambda: _first_frame(TimedAudio(Stream(url=url, http_headers={}), executable=ffmpeg)),
        "either: an ffmpeg process start alone (`ffmpeg -version`)": lambda: subprocess.run(
            [ffmpeg, "-version"], stdout=subprocess.DEVNULL, check=True
        ),
        "baseline: extract_info (one YoutubeDL reused)": lambda: ytdl.extract_info(url, download=False),
        "baseline: FFmpegPCMAudio start to first frame": lambda: _first_frame(
            discord.FFmpegPCMAudio(url, executable=ffmpeg, **FFMPEG_OPTIONS)
        ),
    }
    results: dict[str, Spread] = {}
    for name, step in steps.items():
        step()
        results[name] = Spread.of([_timed(step) for _ in range(reps)])
    return results
