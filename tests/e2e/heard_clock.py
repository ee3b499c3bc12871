"""The heard clock track (second k is 300 + 50k Hz) read back as which second plays when."""

from __future__ import annotations

import numpy as np

from tests.fakediscord import dominant_frequency
from tests.fakediscord.recorder import SAMPLE_RATE
from tests.media import CLOCK_BASE_HZ, CLOCK_STEP_HZ

WINDOW_S = 0.04
HOP_S = 0.01


def clock_runs(pcm: np.ndarray) -> list[tuple[float, int]]:
    """(start second in this audio, clock second k) for each stretch of one clock pitch.

    Windows of 40 ms every 10 ms are labelled by their pitch; a run starts where the label changes,
    estimated half a hop before the first window of the new label is mostly past the change.
    """
    win, hop = int(WINDOW_S * SAMPLE_RATE), int(HOP_S * SAMPLE_RATE)
    labels = []
    for start in range(0, len(pcm) - win + 1, hop):
        hz = dominant_frequency(pcm[start : start + win])
        labels.append(-1 if np.isnan(hz) else int(round((hz - CLOCK_BASE_HZ) / CLOCK_STEP_HZ)))
    runs: list[tuple[float, int]] = []
    for i, label in enumerate(labels):
        if not runs or runs[-1][1] != label:
            # Require two agreeing windows so one mixed window at a boundary is not a run of its own.
            if i + 1 < len(labels) and labels[i + 1] != label:
                continue
            t = 0.0 if not runs else i * HOP_S + WINDOW_S / 2 - HOP_S / 2
            runs.append((t, label))
    return runs


def run_start(runs: list[tuple[float, int]], second: int) -> float:
    return next(t for t, k in runs if k == second)


def heard_seconds(pcm_runs: list[tuple[float, int]], length: int = 60) -> list[int]:
    """The clock's seconds heard, in order (a clock of ``length`` seconds; other pitches dropped)."""
    return [k for _, k in pcm_runs if 0 <= k < length]
