"""Lookups in other processes: a real lookup in a fresh interpreter per call (SUBPROCESS, which
imports the job by its module path), and process-pool workers that end with the bot, even when it is
killed (kill -9, a crash)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from audio.errors import UrlRefused
from audio.executors import ExecutorMode, SubprocessExecutor
from audio.extractor import Extractor
from audio.track import Provider, Track
from audio.url_policy import UrlPolicy
from tests.media import MediaServer, media_duration

REPO = Path(__file__).resolve().parents[2]

BOT_STANDIN = textwrap.dedent(
    """
    import os, sys
    from audio.executors import ExecutorMode, make_executor
    pool = make_executor(ExecutorMode.PROCESS, 2)
    pids = {pool.submit(os.getpid).result(60) for _ in range(6)}
    print(" ".join(map(str, sorted(pids))), flush=True)
    sys.stdin.read()  # until it is killed
    """
)


def _running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.mark.timeout(90)
def test_pool_workers_exit_when_the_bot_process_is_killed() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    bot = subprocess.Popen(
        [sys.executable, "-c", BOT_STANDIN], stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=REPO, env=env
    )
    try:
        assert bot.stdout is not None
        workers = [int(pid) for pid in bot.stdout.readline().split()]
        assert workers and all(_running(pid) for pid in workers)
    finally:
        bot.kill()
        bot.wait()
    deadline = time.monotonic() + 20
    while any(_running(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)  # the OS says nothing when an orphan exits; poll
    assert [pid for pid in workers if _running(pid)] == []


@pytest.mark.timeout(90)
async def test_a_subprocess_lookup_resolves_streams_and_measures_over_loopback(
    media_server: MediaServer, media_dir: Path
) -> None:
    extractor = Extractor(policy=UrlPolicy(allow_private_network=True), mode=ExecutorMode.SUBPROCESS, workers=2)
    assert isinstance(extractor._executor, SubprocessExecutor)
    url = media_server.url("tone.mp3")
    try:
        [track] = await extractor.resolve_all(url, requester_id=9)
        measured = await extractor.measure(track)
        restored = Track("tone", url, None, None, None, Provider.DIRECT)  # nothing handed over: a new lookup
        stream = await extractor.stream(restored)
        with pytest.raises(UrlRefused):
            await extractor.resolve_all("file:///etc/passwd")
    finally:
        extractor.close()
    assert (track.page_url, track.provider, track.requester_id) == (url, Provider.DIRECT, 9)
    assert measured.duration == pytest.approx(media_duration(media_dir / "tone.mp3"), abs=0.1)
    assert stream.url == url


async def test_warm_up_builds_in_each_worker_what_a_first_lookup_would(media_server: MediaServer) -> None:
    """yt-dlp, the extractor modules a link ends in, and an HTTP session that went through the
    egress proxy once: a first lookup pays for none of them."""
    from audio.extractor import Extractor
    from audio.url_policy import UrlPolicy
    from audio.worker_pool import WorkerPoolExecutor
    from tests.audio import pool_jobs

    extractor = Extractor(policy=UrlPolicy(allow_private_network=True), mode=ExecutorMode.PROCESS, workers=1)
    try:
        await extractor.warm_up()
        executor = extractor._executor
        assert isinstance(executor, WorkerPoolExecutor)
        wanted = ["yt_dlp", "yt_dlp.extractor.generic", "yt_dlp.extractor.youtube", "requests"]
        loaded = await asyncio.get_running_loop().run_in_executor(executor, pool_jobs.modules_loaded, wanted)
        assert loaded == wanted
        tracks = await extractor.resolve_all(media_server.url("tone.mp3"))
        assert tracks[0].title == "tone"
    finally:
        extractor.close()
