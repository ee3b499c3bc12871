"""Where the blocking yt-dlp work runs: in threads, in the worker pool, or in a fresh process per lookup.

The choice is the ``EXTRACTOR_MODE`` setting (docs/benchmarks.md compares them); the default is the
worker pool (:mod:`audio.worker_pool`), whose processes can be killed one at a time.
"""

from __future__ import annotations

import concurrent.futures
import enum
import os
import pickle
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import Any

from audio.worker_pool import WORKER_NICENESS, WorkerPoolExecutor


class ExecutorMode(enum.StrEnum):
    """Where the blocking yt-dlp work runs.

    THREAD shares the bot's interpreter (and its GIL with the audio threads); PROCESS keeps warm
    worker interpreters (yt-dlp imported once per worker); SUBPROCESS starts a fresh interpreter per
    lookup (full isolation, pays the interpreter and yt-dlp import every time).
    """

    THREAD = "thread"
    PROCESS = "process"
    SUBPROCESS = "subprocess"


DEFAULT_EXECUTOR_MODE = ExecutorMode.PROCESS


def default_workers() -> int:
    return min(4, (os.cpu_count() or 1) + 1)


def make_executor(
    mode: ExecutorMode | str, workers: int | None = None, *, job_timeout: float = 120.0
) -> concurrent.futures.Executor:
    """An executor for a lookup job (any picklable module-level function) in ``mode``.

    In PROCESS and SUBPROCESS mode a call that outlives ``job_timeout`` has its process killed;
    a THREAD cannot be stopped (the egress proxy still cuts its connections).
    """
    mode = ExecutorMode(mode)
    count = workers or default_workers()
    if count < 1:
        raise ValueError("workers must be at least 1")
    if mode is ExecutorMode.THREAD:
        return concurrent.futures.ThreadPoolExecutor(max_workers=count, thread_name_prefix="extractor")
    if mode is ExecutorMode.PROCESS:
        return WorkerPoolExecutor(count, job_timeout=job_timeout)
    return SubprocessExecutor(max_workers=count, job_timeout=job_timeout)


# Lower the priority before importing yt-dlp: the import is most of a subprocess lookup's CPU.
_CHILD_CODE = (
    f"import os\nif hasattr(os, 'nice'): os.nice({WORKER_NICENESS})\n"
    "from audio.executors import _subprocess_child_main\n_subprocess_child_main()"
)


def _subprocess_child_main() -> None:
    """Entry point of a SUBPROCESS lookup: a pickled (fn, args, kwargs) on stdin, (ok, value) on stdout."""
    fn, args, kwargs = pickle.loads(sys.stdin.buffer.read())
    try:
        outcome: tuple[bool, Any] = (True, fn(*args, **kwargs))
    except Exception as exc:  # noqa: BLE001  (carried back to the caller as the future's exception)
        outcome = (False, exc)
    sys.stdout.buffer.write(pickle.dumps(outcome))
    sys.stdout.buffer.flush()


class SubprocessExecutor(concurrent.futures.Executor):
    """Runs every call in a new ``python`` process; a thread per running call waits for it.

    The function and its arguments must be picklable and importable by module name in the child,
    which gets this interpreter's ``sys.path``. A child that outlives ``job_timeout`` is killed.
    """

    def __init__(self, max_workers: int | None = None, *, job_timeout: float = 120.0) -> None:
        self._threads = concurrent.futures.ThreadPoolExecutor(
            max_workers=max_workers or default_workers(), thread_name_prefix="extractor-subprocess"
        )
        self._job_timeout = job_timeout
        self._children: set[subprocess.Popen[bytes]] = set()
        self._lock = threading.Lock()
        self._env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> concurrent.futures.Future[Any]:
        payload = pickle.dumps((fn, args, kwargs))
        return self._threads.submit(self._run_child, payload)

    def _run_child(self, payload: bytes) -> Any:
        child = subprocess.Popen(
            [sys.executable, "-c", _CHILD_CODE],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=self._env,
        )
        with self._lock:
            self._children.add(child)
        try:
            out, _ = child.communicate(payload, timeout=self._job_timeout)
        except subprocess.TimeoutExpired:
            child.kill()
            child.communicate()
            raise TimeoutError(f"extractor subprocess exceeded {self._job_timeout}s") from None
        finally:
            with self._lock:
                self._children.discard(child)
        if child.returncode != 0 or not out:
            raise RuntimeError(f"extractor subprocess exited with {child.returncode}")
        ok, value = pickle.loads(out)
        if ok:
            return value
        raise value

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Without ``wait``, running children are killed: nobody is left to read their answer."""
        if not wait:
            with self._lock:
                for child in list(self._children):
                    child.kill()
        self._threads.shutdown(wait=wait, cancel_futures=cancel_futures)
