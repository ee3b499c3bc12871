"""Telling "returns at once" from "blocks", and waiting on state another thread owns.

The voice clock serves every guild from one thread, so a call that may block it is tested by
running it on a helper thread: a result within the limit is the answer, no result is a hang.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def returns_within(call: Callable[[], T], seconds: float) -> T | None:
    """``call()`` on another thread; None if it is still blocked after ``seconds``."""
    outcome: list[T] = []
    worker = threading.Thread(target=lambda: outcome.append(call()), daemon=True)
    worker.start()
    worker.join(seconds)
    return outcome[0] if outcome else None


def eventually(check: Callable[[], bool], timeout: float = 10.0, interval: float = 0.01) -> bool:
    """Poll ``check`` (state that no event announces, e.g. a process exiting) until it holds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)
    return True
