"""Where the time from ``play`` to the first packet goes: each serial step of both bots, timed alone.

BRENT's ``play`` of a direct file runs the Extractor's ``resolve_all`` (yt-dlp's generic extractor;
the file's length is measured by ffprobe only after the track is queued and playing), the player's
``stream(track)`` (the Stream the resolve handed back), then takes the already-running standby
ffmpeg and hands it the URL, until its first 20 ms of PCM. The baseline runs one ``extract_info``
and a fresh ffmpeg. Each step is run here on its own, in this process, against the same loopback
media, so the suite can say which step a miss comes from without guessing.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import time
from collections.abc import Callable

import discord
import psutil
import yt_dlp

from audio.egress_proxy import ClientKind, EgressProxy
from audio.extractor import (
    ExtractJob,
    ExtractorConfig,
    JobKind,
    allowed_extractors_for,
    probe_duration,
    run_job,
)
from audio.ffmpeg_standby import OPUS_OUTPUT, PCM_OUTPUT, FfmpegStandby
from audio.timed_audio import TimedAudio
from audio.timed_opus import TimedOpus
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


def _settled(standby: FfmpegStandby, timeout: float = 5.0) -> None:
    """Until the standby ffmpeg has loaded and sits blocked on its stdin (started is not enough)."""
    standby.wait_ready(timeout)
    deadline = time.monotonic() + timeout
    for pid in standby.pids:
        process = psutil.Process(pid)
        last = -1.0
        while time.monotonic() < deadline:
            cpu = sum(process.cpu_times()[:2])
            if cpu == last and process.status() == psutil.STATUS_SLEEPING:
                break
            last = cpu
            time.sleep(0.02)


def latency_budget(url: str, opus_url: str, reps: int) -> dict[str, Spread]:
    """Median/min/max milliseconds of each step, ``reps`` times each (after one untimed warm-up);
    ``opus_url`` is the same kind of file with Opus audio, for the copying source."""
    policy = UrlPolicy(allow_private_network=True)
    egress = EgressProxy(policy)  # BRENT fetches only through its gate, so the budget includes it
    config = ExtractorConfig(
        allowed_extractors=allowed_extractors_for(policy.allowed_providers), ffprobe=None,
        lookup_proxy=egress.url(ClientKind.LOOKUP), media_proxy=egress.url(ClientKind.MEDIA),
    )
    env = egress.ffmpeg_environment()
    ffprobe = shutil.which("ffprobe") or "ffprobe"
    ffmpeg = shutil.which("ffmpeg") or "ffmpeg"
    resolve = ExtractJob(JobKind.RESOLVE_ALL, url, True, policy, config)
    stream_job = ExtractJob(JobKind.STREAM, url, True, policy, config)
    ytdl = yt_dlp.YoutubeDL(YTDL_FORMAT_OPTIONS)
    standby = FfmpegStandby(ffmpeg, size=1, env=env, outputs=(PCM_OUTPUT, OPUS_OUTPUT))
    opus = Stream(url=opus_url, http_headers={}, opus=True)
    steps: dict[str, Callable[[], object]] = {
        "BRENT: resolve_all (yt-dlp)": lambda: run_job(resolve),
        "BRENT: standby ffmpeg, URL handed over to first PCM frame": lambda: _first_frame(
            TimedAudio(Stream(url=url, http_headers={}), executable=ffmpeg, standby=standby, env=env)
        ),
        "BRENT: standby Opus-copying ffmpeg, URL handed over to first packet": lambda: _first_frame(
            TimedOpus(opus, executable=ffmpeg, standby=standby, env=env)
        ),
        "BRENT, when no standby is ready: fresh Opus-copying ffmpeg start to first packet": lambda: _first_frame(
            TimedOpus(opus, executable=ffmpeg, env=env)
        ),
        "BRENT, after the reply path: ffprobe measuring the length": lambda: probe_duration(
            ffprobe, url, {}, 10.0, proxy=egress.url(ClientKind.MEDIA)
        ),
        "BRENT, when no standby is ready: fresh ffmpeg start to first PCM frame": lambda: _first_frame(
            TimedAudio(Stream(url=url, http_headers={}), executable=ffmpeg, env=env)
        ),
        "BRENT, not on a first play: stream(track) looking again": lambda: run_job(stream_job),
        "either: an ffmpeg process start alone (`ffmpeg -version`)": lambda: subprocess.run(
            [ffmpeg, "-version"], stdout=subprocess.DEVNULL, check=True
        ),
        "baseline: extract_info (one YoutubeDL reused)": lambda: ytdl.extract_info(url, download=False),
        "baseline: FFmpegPCMAudio start to first frame": lambda: _first_frame(
            discord.FFmpegPCMAudio(url, executable=ffmpeg, **FFMPEG_OPTIONS)
        ),
    }
    results: dict[str, Spread] = {}
    try:
        for name, step in steps.items():
            step()
            timings = []
            for _ in range(reps):
                _settled(standby)  # a bot's standby has long been refilled when a command comes
                timings.append(_timed(step))
            results[name] = Spread.of(timings)
    finally:
        standby.close()
        egress.close()
    return results
