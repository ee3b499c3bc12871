"""The audio benchmarks' plumbing: gap and burst analysis, report rendering, executor modes, the baseline.

Nothing here times anything: synthetic packets and results stand in for measurements, so these
check what the numbers are made of and how they are reported, not how fast this machine is.
"""

from __future__ import annotations

import concurrent.futures
import math
import os
from pathlib import Path

import numpy as np
import psutil
import pytest

from audio.executors import ExecutorMode, SubprocessExecutor, make_executor
from audio.worker_pool import WorkerPoolExecutor
from benchmarks import SuiteOptions
from benchmarks._figures import Spread, ratio, verdict
from benchmarks._lookup_job import heavy_lookup
from benchmarks._voice_rig import HeapReport, Usage, late_bursts, stream_gaps_ms
from tests.fakediscord import VoicePacket


def packets(arrivals_ms: list[float], ssrcs: list[int] | None = None) -> list[VoicePacket]:
    ssrcs = ssrcs or [1] * len(arrivals_ms)
    return [VoicePacket(t / 1000, i, i * 960, s, False, b"") for i, (t, s) in enumerate(zip(arrivals_ms, ssrcs, strict=True))]


def test_gaps_are_intervals_within_one_ssrc() -> None:
    gaps = stream_gaps_ms(packets([0, 20, 41, 100, 120], [1, 1, 1, 2, 2]))
    assert gaps.tolist() == pytest.approx([20, 21, 20])


def test_a_stall_followed_by_a_catch_up_run_is_one_late_burst() -> None:
    gaps = np.array([20, 20, 80, 1, 1, 1, 20, 20])
    assert late_bursts(gaps) == 1


def test_a_stall_without_catch_up_or_a_short_catch_up_is_not_a_burst() -> None:
    assert late_bursts(np.array([20, 80, 20, 20])) == 0
    assert late_bursts(np.array([20, 80, 1, 1, 20])) == 0
    assert late_bursts(np.array([80, 1, 1, 1, 20, 60, 2, 2, 2, 2])) == 2


def test_spread_ratio_and_verdict() -> None:
    spread = Spread.of([30.0, 10.0, 20.0])
    assert (spread.p50, spread.low, spread.high, spread.n) == (20.0, 10.0, 30.0, 3)
    assert Spread.of([]).text() == "n/a"
    assert ratio(50, 100) == "0.50x" and ratio(1, 0) == "n/a"
    assert verdict(20, 25) == "met" and verdict(30, 25) == "**missed**"
    assert verdict(60, 60, at_least=True) == "met" and verdict(math.nan, 1) == "n/a"


def test_capacity_held_is_the_best_level_before_two_failures_in_a_row() -> None:
    from benchmarks.capacity_suite import Level, Ramp

    def level(n: int, p99: float, bursts: int = 0, real_time: float = 1.0) -> Level:
        return Level(n, 20, p99, p99 + 5, 0, bursts, n * 0.03, n * 0.02, 80 + n, 50 * n, 0, real_time=real_time)

    ramp = Ramp("x", [level(1, 22), level(10, 30), level(20, 35, bursts=1), level(30, 25), level(40, 50),
                      level(50, 45), level(60, 20)])
    assert ramp.held == 30  # one spoilt window (20) is passed over; two in a row (40, 50) end it
    # A sender that fell behind without bursting: tidy gaps, but the audio runs slow.
    slow = Ramp("y", [level(1, 22), level(10, 30), level(20, 30, real_time=0.71), level(30, 31, real_time=0.6)])
    assert slow.held == 10
    assert ramp.cpu_ms_per_stream() == pytest.approx(30.0)
    assert ramp.mb_per_stream("rss_mb") == pytest.approx(1.0)


def test_subprocess_executor_runs_in_another_process_and_carries_exceptions_back() -> None:
    executor = make_executor(ExecutorMode.SUBPROCESS, 2)
    assert isinstance(executor, SubprocessExecutor)
    try:
        assert executor.submit(os.getpid).result(60) != os.getpid()
        with pytest.raises(ValueError):
            executor.submit(int, "not a number").result(60)
    finally:
        executor.shutdown()


def test_every_mode_builds_an_executor() -> None:
    for mode in ExecutorMode:
        executor = make_executor(mode, 1)
        assert isinstance(executor, concurrent.futures.Executor)
        executor.shutdown()
    with pytest.raises(ValueError):
        make_executor("fork")


async def test_warm_up_starts_the_process_pool_workers_before_the_first_lookup() -> None:
    from audio.extractor import Extractor
    from audio.url_policy import UrlPolicy

    extractor = Extractor(policy=UrlPolicy(allow_private_network=True), mode=ExecutorMode.PROCESS, workers=1)
    try:
        await extractor.warm_up()
        pids = {p.pid for p in psutil.Process().children()}
        executor = extractor._executor
        assert isinstance(executor, WorkerPoolExecutor)
        assert executor.pids and executor.pids <= pids
    finally:
        extractor.close()


def test_lookup_job_runs_yt_dlp_processing_offline() -> None:
    assert heavy_lookup(2) > 0


def test_baseline_bot_has_the_basic_voice_commands() -> None:
    from benchmarks.baseline_bot import FFMPEG_OPTIONS, YTDL_FORMAT_OPTIONS, create_baseline_bot

    bot = create_baseline_bot("\\")
    assert YTDL_FORMAT_OPTIONS["format"] == "bestaudio/best" and FFMPEG_OPTIONS == {"options": "-vn"}
    assert bot.intents.message_content


def _options(tmp_path: Path) -> SuiteOptions:
    return SuiteOptions(quick=False, img_dir=tmp_path / "img", doc_dir=tmp_path)


def test_audio_path_report_compares_with_the_baseline_and_checks_targets(tmp_path: Path) -> None:
    from benchmarks.audio_path_report import report
    from benchmarks.audio_path_suite import PathResult, Plan

    rng = np.random.default_rng(6)
    baseline = PathResult("baseline", [400.0] * 3, [100.0] * 3, [100.0] * 3, online_s=[0.5] * 6, load=[1.0] * 6,
                          gaps_alone=rng.normal(20, 1, 500), gaps_loaded=rng.normal(20, 10, 500), lookups=10,
                          lookup_s=5.0)
    # One slow run out of three: a first-packet target holds in every run or not at all.
    brent = PathResult("BRENT (process)", [100.0, 120.0, 140.0], [20.0, 25.0, 40.0], [20.0] * 3,
                       online_s=[2.0] * 6, load=[1.0] * 6, gaps_alone=rng.normal(20, 1, 500),
                       gaps_loaded=rng.normal(20, 2, 500), lookups=10, lookup_s=5.0)
    section = report(baseline, brent, [brent], Plan(3, 3, 5.0), _options(tmp_path))
    assert ("| \\play to first packet, joining voice (fresh process each) | 400.0 / 400.0 / 400.0 / 400.0 ms (n=3) "
            "| 100.0 / 120.0 / 138.0 / 140.0 ms (n=3) | 0.30x | <= 150 ms every run | met |") in section.markdown
    assert "| 20.0 / 25.0 / 38.5 / 40.0 ms (n=3) | 0.25x | <= 30 ms every run | **missed** |" in section.markdown
    assert "| process start to online (identified), s | 0.5 / 0.5 / 0.5 / 0.5 s (n=6) |" in section.markdown
    assert all(p.exists() for p in section.plots)
    assert "](img/audio-latency.png)" in section.markdown


def test_spread_distribution_is_min_median_p95_max() -> None:
    assert Spread.of([1.0, 2.0, 3.0, 4.0, 5.0]).distribution() == "1.0 / 3.0 / 4.8 / 5.0 ms (n=5)"
    assert Spread.of([2.0, 2.0]).distribution("") == "2.0 / 2.0 / 2.0 / 2.0 (n=2)"
    assert Spread.of([]).distribution() == "n/a"


def test_soak_report_flags_growth_and_leaked_children(tmp_path: Path) -> None:
    from benchmarks.soak_suite import Plan, Soak, report

    def usage(mb: float, fds: int, children: tuple[str, ...] = ()) -> Usage:
        return Usage(0.0, 0.0, 0.0, int(mb * 2**20), 0, fds, children)

    soak = Soak("BRENT", usage(70, 7), usage(80, 11), usage(90, 11, ("ffmpeg",)),
                [(0, usage(70, 7)), (10, usage(80, 11)), (20, usage(90, 11, ("ffmpeg",)))], 20.0, 10.0,
                heap=HeapReport(2**20, 3 * 2**20, "message.py 900 kB"))
    section = report(soak, Plan(20, 10, 0.4, 5), _options(tmp_path))
    assert "1 new at the end | **missed** |" in section.markdown
    assert "growth after warm-up +1.00 MB | met |" in section.markdown  # the Python heap
    assert "growth after warm-up +7.0 MB (less tracemalloc's own 3.0 MB) | **missed** |" in section.markdown


def test_capacity_report_states_streams_held_against_the_target(tmp_path: Path) -> None:
    from benchmarks.capacity_report import report
    from benchmarks.capacity_suite import Level, Plan, Ramp

    def ramp(label: str, p99s: list[float]) -> Ramp:
        levels = [Level(n, 20, p99, p99 + 5, 0, 0, n * 0.03, n * 0.02, 80 + n, 50 * n, 0, 0.1, 0.5, 1.0)
                  for n, p99 in zip((1, 20, 40, 60, 80), p99s, strict=False)]
        return Ramp(label, levels, idle_guilds=50, idle_kb_per_guild=2.0, base_rss_mb=70.0)

    baseline = ramp("baseline", [22, 30, 45, 50])
    brent = ramp("BRENT (thread)", [22, 25, 30, 35, 60])
    section = report(baseline, brent, Plan((1, 20, 40, 60, 80), 5.0, 50, 150.0), _options(tmp_path))
    assert (
        "| streams held (p99 <= 40 ms, no late burst, >= 98 % of the real-time packet rate) | 20 | 60 | 3.00x"
        " | >= 60 | met |"
    ) in section.markdown
    assert section.plots[0].exists()


def _tone_frame(hz: float) -> bytes:
    t = np.arange(960) / 48000
    mono = (np.sin(2 * np.pi * hz * t) * 8000).astype("<i2")
    return np.repeat(mono, 2).tobytes()


def test_the_changeover_is_measured_at_the_pitch_seam_not_anywhere_in_the_play() -> None:
    from benchmarks._voice_rig import changeover_interval_ms

    a, b = _tone_frame(500), _tone_frame(700)
    # A 45 ms stall early in track A must not count; the seam itself is one missed slot (40 ms).
    arrivals = [0, 20, 65, 85, 105, 125, 145, 165, 205, 225, 245]
    pcm = [a] * 8 + [b] * 3
    seam = [VoicePacket(t / 1000, i, i * 960, 1, False, p) for i, (t, p) in enumerate(zip(arrivals, pcm, strict=True))]
    assert changeover_interval_ms(seam, 500, 700, around=2) == pytest.approx(40.0)
    gapless = [VoicePacket(i * 0.02, i, i * 960, 1, False, p) for i, p in enumerate([a] * 8 + [b] * 3)]
    assert changeover_interval_ms(gapless, 500, 700, around=2) == pytest.approx(20.0)
    assert math.isnan(changeover_interval_ms(gapless[:8], 500, 700))  # tone B never heard
