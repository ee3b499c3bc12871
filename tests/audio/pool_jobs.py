"""Jobs for the worker-pool tests.

A worker receives its function by reference, so these must be module-level functions of an
importable module. They report what they did through files named after the worker's pid in a
directory the test passes in: that is visible from the test process without any shared state.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

HANG_SECONDS = 3600.0
RENDEZVOUS_TIMEOUT = 30.0


def pid() -> int:
    return os.getpid()


def mark(directory: str, what: str) -> int:
    """Leave ``<what>-<pid>`` in ``directory``; returns the pid."""
    me = os.getpid()
    (Path(directory) / f"{what}-{me}").touch()
    return me


def warm(directory: str) -> None:
    """A warm-up hook: proves it ran in this worker."""
    mark(directory, "warm")


def hang(directory: str) -> None:
    """Say which worker took the call, then outlive any job deadline a test sets."""
    mark(directory, "hang")
    time.sleep(HANG_SECONDS)


def rendezvous(directory: str, parties: int) -> int:
    """Return this worker's pid once ``parties`` calls (each in its own worker) are running at once.

    Proves the calls ran side by side in different workers: one worker runs one call at a time, so
    with fewer workers than parties this waits until RENDEZVOUS_TIMEOUT and raises.
    """
    me = mark(directory, "arrived")
    deadline = time.monotonic() + RENDEZVOUS_TIMEOUT
    while len(list(Path(directory).glob("arrived-*"))) < parties:
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {len(list(Path(directory).glob('arrived-*')))} of {parties} arrived")
        time.sleep(0.01)  # polling a directory: there is no cross-process event to wait on here
    return me


def fail(message: str) -> None:
    raise ValueError(message)


def modules_loaded(names: list[str]) -> list[str]:
    """Which of ``names`` this worker has imported already."""
    import sys

    return [name for name in names if name in sys.modules]


def loaded_in(directory: str, parties: int, names: list[str]) -> tuple[int, list[str]]:
    """This worker's pid and which of ``names`` it had imported, once ``parties`` workers answer at once
    (so each of them answers exactly one call)."""
    loaded = modules_loaded(names)
    return rendezvous(directory, parties), loaded
