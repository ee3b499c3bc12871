"""Worker processes for lookups that can be killed one at a time.

yt-dlp can be kept busy long after a lookup's timeout: a site that sends one byte every two seconds
never trips a socket timeout, and a pathological page can keep an extractor's regexes spinning.
``concurrent.futures.ProcessPoolExecutor`` cannot stop one call (killing a worker breaks the whole
pool), so a few stuck lookups would stall every server's ``play``. Here each worker is a process
with its own pipe: a call that outlives ``job_timeout`` gets its worker killed and replaced, and the
other workers go on.

Calls and their results must be picklable; functions are sent by reference, so they must be
importable module-level functions. Workers are started with ``spawn`` (forking a process that runs
threads can copy a held lock into the child; spawn is also macOS's default).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import logging
import multiprocessing
import multiprocessing.connection
import os
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

WORKER_NICENESS = 10
PARENT_CHECK_INTERVAL = 1.0
THREAD_START_TIMEOUT = 5.0
_STOP = None


def start_worker() -> None:
    """Set up a worker process: lower its priority, and end it with the bot.

    A lookup finishing 50 ms later is invisible; a voice packet 50 ms late is a hiccup, and only a
    separate process can be deprioritised like this. A worker busy in a lookup when the bot dies
    would otherwise live on, so a daemon thread notices the re-parenting and exits it.
    """
    lower_priority()
    parent = os.getppid()
    threading.Thread(target=_exit_when_orphaned, args=(parent,), name="parent-watch", daemon=True).start()


def lower_priority() -> None:
    nice = getattr(os, "nice", None)  # POSIX (Linux, macOS); absent on Windows
    if nice is not None:
        try:
            nice(WORKER_NICENESS)
        except OSError:
            log.debug("could not lower the worker's priority", exc_info=True)


def _exit_when_orphaned(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_INTERVAL)
    os._exit(0)


def _worker_main(conn: multiprocessing.connection.Connection) -> None:
    """A worker's life: (fn, args, kwargs) in, (ok, value) out, until the pipe closes or says stop."""
    start_worker()
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return  # the bot is gone
        if message is _STOP:
            return
        fn, args, kwargs = message
        try:
            outcome: tuple[bool, Any] = (True, fn(*args, **kwargs))
        except Exception as exc:  # noqa: BLE001  (carried back as the future's exception)
            outcome = (False, exc)
        try:
            conn.send(outcome)
        except Exception as exc:  # noqa: BLE001  (an unpicklable result or exception)
            conn.send((False, RuntimeError(f"worker could not send its result: {type(exc).__name__}")))


class _Worker:
    def __init__(self, context: multiprocessing.context.SpawnContext) -> None:
        parent, child = context.Pipe()
        self.process = context.Process(target=_worker_main, args=(child,), name="brent-lookup", daemon=True)
        self.process.start()
        child.close()
        self.conn = parent
        self.warmed = False
        self._ended = threading.Lock()
        self._closed = False

    def call(self, message: tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]], timeout: float) -> Any:
        """Run one call; raises TimeoutError (the worker is then unusable) or the call's exception."""
        self.conn.send(message)
        return self.result(timeout)

    def result(self, timeout: float) -> Any:
        """The outcome of the call sent last; see :meth:`call`."""
        if not self.conn.poll(timeout):
            raise TimeoutError(f"lookup worker pid {self.process.pid} exceeded {timeout:g} s")
        ok, value = self.conn.recv()
        if ok:
            return value
        raise value

    def kill(self) -> None:
        """Kill the process and close the pipe; safe from any thread, any number of times (a
        shutdown and the thread waiting on the call may both get here)."""
        self.interrupt()
        self.process.join(timeout=5)
        self._close_pipe()

    def interrupt(self) -> None:
        """Kill the process only: the thread waiting on its call sees the pipe end and cleans up."""
        with contextlib.suppress(OSError, ValueError):
            self.process.kill()

    def stop(self) -> None:
        with self._ended:
            if not self._closed:
                with contextlib.suppress(OSError, ValueError):
                    self.conn.send(_STOP)
        self.process.join(timeout=2)
        if self.process.is_alive():
            self.kill()
        else:
            self._close_pipe()

    def _close_pipe(self) -> None:
        with self._ended:
            if not self._closed:
                self._closed = True
                self.conn.close()


class WorkerPoolExecutor(concurrent.futures.Executor):
    """``max_workers`` worker processes, one call at a time each; see the module docstring.

    A thread per worker waits for its call (``poll`` with the deadline), so the event loop only ever
    awaits an ordinary future.
    """

    def __init__(self, max_workers: int, *, job_timeout: float) -> None:
        if max_workers < 1:
            raise ValueError("max_workers must be at least 1")
        self._context = multiprocessing.get_context("spawn")
        self._size = max_workers
        self._job_timeout = job_timeout
        self._threads = concurrent.futures.ThreadPoolExecutor(max_workers, thread_name_prefix="lookup-wait")
        self._idle: queue.SimpleQueue[_Worker] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._workers: set[_Worker] = set()
        self._started = 0
        self._closed = False
        self._warm: Callable[[], Any] | None = None
        self.replaced = 0  # workers killed for outliving a call's deadline

    @property
    def pids(self) -> frozenset[int]:
        with self._lock:
            return frozenset(w.process.pid for w in self._workers if w.process.pid is not None)

    def start_workers(self, warm: Callable[[], Any] | None = None) -> None:
        """Start every worker that is not running yet and warm them, all at once (blocking: each
        is an interpreter start, and two cores start two at a time instead of one after the other).

        ``warm`` (picklable, like any call) runs in each worker before its first job, here and in
        every worker started later to replace one: what a first lookup would otherwise build.
        Returns once every worker has run it; a worker that could not is retired and one is
        started later, when needed (RuntimeError then, after the others are ready).
        """
        if warm is not None:
            self._warm = warm
        launched: list[_Worker] = []
        while True:
            with self._lock:
                if self._closed or self._started >= self._size:
                    break
                self._started += 1
            try:
                launched.append(self._launch())
            except BaseException:
                with self._lock:
                    self._started -= 1
                for worker in launched:
                    self._idle.put(worker)
                raise
        failed = self._warm_up(*launched)
        self._start_waiting_threads()
        for worker in launched:
            if worker in failed:
                with self._lock:
                    self._started -= 1
            else:
                self._idle.put(worker)
        if failed:
            raise RuntimeError(f"{len(failed)} lookup worker(s) did not warm up: {next(iter(failed.values()))!r}")

    def _start_waiting_threads(self) -> None:
        """Start every thread that waits for a call now (a first call would start its own: a
        millisecond or two): each holds until all are running, so none can serve two of these."""
        if self._closed:
            return
        everyone = threading.Barrier(self._size)
        started = [self._threads.submit(everyone.wait, THREAD_START_TIMEOUT) for _ in range(self._size)]
        for future in started:
            with contextlib.suppress(threading.BrokenBarrierError):
                future.result()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> concurrent.futures.Future[Any]:
        if self._closed:
            raise RuntimeError("cannot schedule new futures after shutdown")
        return self._threads.submit(self._run, (fn, args, kwargs))

    def _run(self, message: tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]) -> Any:
        worker = self._take()
        if failed := self._warm_up(worker):  # one started before the warm-up was known
            with self._lock:
                self._started -= 1
            raise RuntimeError(f"a lookup worker did not warm up: {failed[worker]!r}")
        try:
            result = worker.call(message, self._job_timeout)
        except (TimeoutError, EOFError, OSError) as exc:
            if self._closed:  # killed by shutdown: not a deadline, nothing to replace
                self._retire(worker, kill=True)
                raise RuntimeError("the lookup pool is shut down") from None
            self._replace(worker, exc)
            raise TimeoutError(str(exc)) if isinstance(exc, TimeoutError) else RuntimeError(
                f"lookup worker died: {exc!r}"
            ) from None
        except BaseException:
            self._idle.put(worker)
            raise
        self._idle.put(worker)
        return result

    def _take(self) -> _Worker:
        """An idle worker, or a new one while fewer than ``max_workers`` run (one that could not be
        replaced counts as not running, so waiting threads look again now and then). An idle one
        is always preferred: starting a worker costs an interpreter start."""
        while True:
            with contextlib.suppress(queue.Empty):
                return self._idle.get_nowait()
            with self._lock:
                spawn = self._started < self._size
                if spawn:
                    self._started += 1
            if spawn:
                try:
                    return self._spawn()
                except BaseException:
                    with self._lock:
                        self._started -= 1
                    raise
            with contextlib.suppress(queue.Empty):
                return self._idle.get(timeout=1.0)

    def _spawn(self) -> _Worker:
        worker = self._launch()
        if failed := self._warm_up(worker):
            raise RuntimeError(f"a lookup worker did not warm up: {failed[worker]!r}")
        return worker

    def _launch(self) -> _Worker:
        worker = _Worker(self._context)
        with self._lock:
            self._workers.add(worker)
            closed = self._closed
        if closed:
            self._retire(worker)
            raise RuntimeError("the lookup pool is shut down")
        return worker

    def _warm_up(self, *workers: _Worker) -> dict[_Worker, BaseException]:
        """Run the warm-up in each of ``workers`` not yet warmed, all at once; returns those that died
        or hung doing it (retired) with why. A warm-up that raises leaves a cold worker that works."""
        cold = [w for w in workers if self._warm is not None and not w.warmed]
        failed: dict[_Worker, BaseException] = {}
        for worker in cold:
            worker.warmed = True
            try:
                worker.conn.send((self._warm, (), {}))
            except (OSError, ValueError) as exc:
                failed[worker] = exc
        # They share the cores, so together they get what one after the other would have had.
        deadline = time.monotonic() + self._job_timeout * len(cold)
        for worker in cold:
            if worker in failed:
                continue
            try:
                worker.result(max(0.0, deadline - time.monotonic()))
            except (TimeoutError, EOFError, OSError) as exc:
                failed[worker] = exc
            except Exception:  # noqa: BLE001  (a cold worker still works; its first lookup is slower)
                log.exception("warming lookup worker pid %s failed", worker.process.pid)
        for worker in failed:
            self._retire(worker, kill=True)
        return failed

    def _replace(self, worker: _Worker, why: BaseException) -> None:
        log.warning("killing lookup worker pid %s and starting another: %s", worker.process.pid, why)
        self._retire(worker, kill=True)
        self.replaced += 1
        if self._closed:
            return
        try:
            self._idle.put(self._spawn())
        except (OSError, RuntimeError):
            log.exception("could not start a replacement lookup worker; one will be started when needed")
            with self._lock:
                self._started -= 1

    def _retire(self, worker: _Worker, *, kill: bool = True) -> None:
        with self._lock:
            self._workers.discard(worker)
        if kill:
            worker.kill()
        else:
            worker.stop()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Idle workers are told to stop; without ``wait`` busy ones are killed (nobody awaits them)."""
        with self._lock:
            self._closed = True
            workers = list(self._workers)
        idle: set[_Worker] = set()
        with contextlib.suppress(queue.Empty):
            while True:
                idle.add(self._idle.get_nowait())
        for worker in workers:
            if worker in idle:
                self._retire(worker, kill=False)
            elif not wait:
                worker.interrupt()  # its waiting thread retires it
        self._threads.shutdown(wait=wait, cancel_futures=cancel_futures)
        with self._lock:
            leftovers = list(self._workers)
        for worker in leftovers:
            self._retire(worker, kill=False)
