"""timeit with repeats, reported as min and median microseconds per operation.

Why min and median: the minimum is the cost with the least interference from the rest of the
machine (the closest thing to the operation's own cost); the median shows what a typical call
sees. A mean would be dragged by the odd preemption on a shared 2-core box.
"""

from __future__ import annotations

import logging
import statistics
import time
import timeit
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Timing:
    min_us: float
    median_us: float
    repeats: int
    ops: int  # operations per repeat


def measure(
    operation: Callable[[], object],
    *,
    setup: Callable[[], object] | None = None,
    number: int = 1,
    ops_per_call: int = 1,
    repeats: int = 5,
    budget_s: float | None = None,
) -> Timing:
    """Time ``operation`` ``number`` times per repeat; ``setup`` runs untimed before each repeat.

    ``ops_per_call`` is for an ``operation`` that runs a prepared batch of operations itself.
    ``setup`` is how a mutating operation starts every repeat from the same state (for example a
    fresh copy of the queue). With ``budget_s`` set, repeats stop early once that much wall time
    has been spent, setup included (at least three repeats run), so slow cases cannot blow up a run.
    """
    timer = timeit.Timer(stmt=operation, setup=setup or (lambda: None))
    per_op: list[float] = []
    started = time.perf_counter()
    for done in range(repeats):
        if budget_s is not None and done >= 3 and time.perf_counter() - started > budget_s:
            break
        per_op.append(timer.timeit(number) / (number * ops_per_call) * 1e6)
    return Timing(min(per_op), statistics.median(per_op), len(per_op), number * ops_per_call)
