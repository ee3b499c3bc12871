"""When one message may be edited next: changes soon, the moving position seldom, never in bursts.

Discord allows a channel about five message edits per five seconds, shared with the bot's replies. A
change (pause, skip, volume, the queue) goes out at once unless the last edit was under ``min_gap``
ago; then it goes out once when the gap is over, with every change made meanwhile. With no change,
the position of a playing track is refreshed every ``refresh_every`` seconds. Times are the caller's
clock (the event loop's), so the rules are tested without waiting.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MIN_GAP = 2.0
REFRESH_EVERY = 15.0


@dataclass
class EditPacer:
    min_gap: float = MIN_GAP
    refresh_every: float = REFRESH_EVERY
    last_edit: float = -math.inf
    pending: bool = False  # a change not shown yet

    def change(self) -> None:
        self.pending = True

    def edited(self, now: float) -> None:
        self.last_edit = now
        self.pending = False

    def next_edit(self, *, ticking: bool) -> float | None:
        """When the next edit is due (maybe already past); None: not until something changes.

        ``ticking``: a track plays (not paused), so its position moves.
        """
        if self.pending:
            return self.last_edit + self.min_gap
        if ticking:
            return self.last_edit + self.refresh_every
        return None
