"""How busy a voice clock is, and the Opus complexity its guilds' PCM is encoded at because of it.

Encoding is most of a clock's work for PCM sources (8.5 ms per stream-second at libopus's default
complexity 9 on the reference machine; copied Opus costs none). Below complexity 7 libopus skips
its signal analysis, which halves that (4.6 ms at 6), while at the 128 kbps BRENT sends the
difference is hard to hear. So a clock encodes at 9 while it has time to spare and at 6 while its
passes take a large share of its time, rather than let packets come late; the share is smoothed
over a couple of seconds and has a gap between the two thresholds, so neither one slow pass (a
garbage collection) nor the step's own saving switches it back and forth.
"""

from __future__ import annotations

import math

import discord

FULL_COMPLEXITY = 9  # libopus's default: what discord.py encodes at
LIGHT_COMPLEXITY = 6  # the most that skips the analysis
BUSY_ABOVE = 0.45  # share of the clock's time in its passes above which it encodes light
CALM_BELOW = 0.2  # ... and below which it goes back to full
SMOOTHING_S = 2.0
_SET_COMPLEXITY = 4010  # OPUS_SET_COMPLEXITY_REQUEST, opus_defines.h


class ClockLoad:
    """The smoothed share of a clock's time spent in its passes, and the complexity it calls for."""

    def __init__(self) -> None:
        self.busy = 0.0
        self.complexity = FULL_COMPLEXITY
        self._last_end: float | None = None

    def passed(self, started: float, ended: float) -> bool:
        """A pass ran from ``started`` to ``ended`` (perf_counter); True when the complexity changed."""
        since = started if self._last_end is None else self._last_end
        self._last_end = ended
        span = ended - since
        if span <= 0:
            return False
        share = min(1.0, (ended - started) / span)
        self.busy += (1.0 - math.exp(-span / SMOOTHING_S)) * (share - self.busy)
        if self.busy > BUSY_ABOVE:
            wanted = LIGHT_COMPLEXITY
        elif self.busy < CALM_BELOW:
            wanted = FULL_COMPLEXITY
        else:
            wanted = self.complexity
        changed = wanted != self.complexity
        self.complexity = wanted
        return changed


def set_complexity(encoder: discord.opus.Encoder, level: int) -> None:
    """discord.py's Encoder has setters for bitrate, bandwidth and the rest but not this one."""
    discord.opus._lib.opus_encoder_ctl(encoder._state, _SET_COMPLEXITY, level)
