"""WorkerPoolExecutor: a call past its deadline costs one worker, never the pool.

Real worker processes run the jobs in tests/audio/pool_jobs.py; what happened inside a worker is
read from the marker files those jobs leave (named by pid), and whether a process still exists from
the OS (psutil).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest

from audio.worker_pool import WorkerPoolExecutor
from tests.audio import pool_jobs

JOB_TIMEOUT = 2.0
WAIT = 30.0  # the most any test waits for something that should take well under a second

MakePool = Callable[..., WorkerPoolExecutor]


@pytest.fixture
def make_pool() -> Iterator[MakePool]:
    """Pools made here are shut down (busy workers killed) even when a test fails."""
    pools: list[WorkerPoolExecutor] = []

    def make(workers: int, job_timeout: float = JOB_TIMEOUT) -> WorkerPoolExecutor:
        pool = WorkerPoolExecutor(workers, job_timeout=job_timeout)
        pools.append(pool)
        return pool

    yield make
    for pool in pools:
        pool.shutdown(wait=False, cancel_futures=True)


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def marked(directory: Path, what: str) -> set[int]:
    return {int(path.name.rsplit("-", 1)[1]) for path in directory.glob(f"{what}-*")}


def wait_for_marks(directory: Path, what: str, count: int, timeout: float = WAIT) -> set[int]:
    """The pids that left ``what`` once there are ``count`` of them (a job in another process says
    so only through the file system, so this polls, bounded by ``timeout``)."""
    deadline = time.monotonic() + timeout
    while len(found := marked(directory, what)) < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(found)} of {count} '{what}' marks after {timeout} s")
        time.sleep(0.01)
    return found


def test_a_call_past_the_deadline_kills_its_worker_and_a_new_one_takes_its_place(
    make_pool: MakePool, tmp_path: Path
) -> None:
    pool = make_pool(2)
    pool.start_workers()
    first_pids = pool.pids
    assert len(first_pids) == 2

    started = time.monotonic()
    hung = pool.submit(pool_jobs.hang, str(tmp_path))
    (hung_pid,) = wait_for_marks(tmp_path, "hang", 1)
    # A normal call while the other worker is stuck: it runs on the free worker, at once.
    normal_pid = pool.submit(pool_jobs.mark, str(tmp_path), "normal").result(timeout=WAIT)
    assert normal_pid != hung_pid and normal_pid in first_pids
    assert not hung.done()  # answered while the stuck call was still running

    error = hung.exception(timeout=WAIT)
    elapsed = time.monotonic() - started
    assert isinstance(error, TimeoutError)
    assert JOB_TIMEOUT <= elapsed < JOB_TIMEOUT + 10
    assert not alive(hung_pid)  # killed, not left to finish its hour
    assert pool.replaced == 1
    assert alive(normal_pid)  # the other worker was not touched
    new_pids = pool.pids - {normal_pid}
    assert len(new_pids) == 1 and hung_pid not in pool.pids
    (new_pid,) = new_pids

    # Two calls at once need both workers: the replacement serves one of them.
    meeting = tmp_path / "meeting"
    meeting.mkdir()
    calls = [pool.submit(pool_jobs.rendezvous, str(meeting), 2) for _ in range(2)]
    assert {call.result(timeout=WAIT) for call in calls} == {normal_pid, new_pid}
    assert pool.replaced == 1


def test_warm_runs_in_every_worker_and_in_a_replacement(
    make_pool: MakePool, tmp_path: Path
) -> None:
    pool = make_pool(2)
    pool.start_workers(functools.partial(pool_jobs.warm, str(tmp_path)))
    first_pids = pool.pids
    assert len(first_pids) == 2
    assert marked(tmp_path, "warm") == first_pids  # before start_workers returned

    hung = pool.submit(pool_jobs.hang, str(tmp_path))
    assert isinstance(hung.exception(timeout=WAIT), TimeoutError)
    assert pool.replaced == 1
    (new_pid,) = pool.pids - first_pids
    assert marked(tmp_path, "warm") == first_pids | {new_pid}


def test_start_workers_warms_every_worker_at_the_same_time(make_pool: MakePool, tmp_path: Path) -> None:
    """The warm-ups overlap: each waits until all workers are in theirs, which one after the other
    would never see (the first would outlive the deadline and be retired)."""
    pool = make_pool(3, job_timeout=WAIT)
    pool.start_workers(functools.partial(pool_jobs.rendezvous, str(tmp_path), 3))
    assert len(pool.pids) == 3
    assert marked(tmp_path, "arrived") == pool.pids
    assert len(pool._threads._threads) == 3  # the threads that wait for calls run before the first call


def test_warm_ups_past_the_deadline_retire_their_workers_and_say_so(make_pool: MakePool, tmp_path: Path) -> None:
    pool = make_pool(2)
    with pytest.raises(RuntimeError, match="did not warm up"):
        pool.start_workers(functools.partial(pool_jobs.hang, str(tmp_path)))
    hung = marked(tmp_path, "hang")
    assert len(hung) == 2
    assert not pool.pids
    assert not any(alive(pid) for pid in hung)


def test_start_workers_twice_starts_no_extra_worker(
    make_pool: MakePool, tmp_path: Path
) -> None:
    pool = make_pool(2)
    pool.start_workers()
    pids = pool.pids
    pool.start_workers(functools.partial(pool_jobs.warm, str(tmp_path)))
    assert pool.pids == pids


def test_an_idle_worker_is_reused_rather_than_a_new_one_started(
    make_pool: MakePool,
) -> None:
    pool = make_pool(3)
    pids = [pool.submit(pool_jobs.pid).result(timeout=WAIT) for _ in range(6)]
    assert len(set(pids)) == 1
    assert pool.pids == {pids[0]}  # the other two were never started


def test_a_failing_call_raises_its_error_and_keeps_its_worker(
    make_pool: MakePool,
) -> None:
    pool = make_pool(1)
    before = pool.submit(pool_jobs.pid).result(timeout=WAIT)
    with pytest.raises(ValueError, match="bad input"):
        pool.submit(pool_jobs.fail, "bad input").result(timeout=WAIT)
    assert pool.submit(pool_jobs.pid).result(timeout=WAIT) == before
    assert pool.replaced == 0


def test_shutdown_stops_idle_workers(make_pool: MakePool) -> None:
    pool = make_pool(2)
    pool.start_workers()
    pids = pool.pids
    pool.shutdown(wait=True)
    assert len(pids) == 2 and not any(alive(pid) for pid in pids)
    assert pool.pids == frozenset()
    with pytest.raises(RuntimeError, match="shutdown"):
        pool.submit(pool_jobs.pid)


def test_shutdown_without_wait_kills_a_busy_worker_at_once(make_pool: MakePool, tmp_path: Path) -> None:
    pool = make_pool(1, job_timeout=pool_jobs.HANG_SECONDS * 2)
    busy = pool.submit(pool_jobs.hang, str(tmp_path))
    (busy_pid,) = wait_for_marks(tmp_path, "hang", 1)

    started = time.monotonic()
    pool.shutdown(wait=False)
    assert time.monotonic() - started < 5  # killed, not waited for
    assert not alive(busy_pid)
    assert busy.exception(timeout=WAIT) is not None  # its caller hears of it
    assert pool.pids == frozenset()
    assert pool.replaced == 0  # a shutdown kill is no deadline kill


def test_shutdown_during_a_call_never_raises(make_pool: MakePool, tmp_path: Path) -> None:
    for attempt in range(50):  # about one shutdown in ten meets the race
        directory = tmp_path / str(attempt)
        directory.mkdir()
        pool = make_pool(1, job_timeout=pool_jobs.HANG_SECONDS * 2)
        busy = pool.submit(pool_jobs.hang, str(directory))
        wait_for_marks(directory, "hang", 1)
        pool.shutdown(wait=False)
        error = busy.exception(timeout=WAIT)
        assert not isinstance(error, OSError), f"attempt {attempt}: the call's thread failed closing: {error!r}"
