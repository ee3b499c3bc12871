"""Process-pool extractor workers end with the bot, even when it is killed (kill -9, a crash)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

REPO = Path(__file__).resolve().parents[2]

BOT_STANDIN = textwrap.dedent(
    """
    import os, sys
    from audio.worker_pool import ExecutorMode, make_executor
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
