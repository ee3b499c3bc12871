"""Where a track joins the queue: at the back (FIFO) or at its member's turn (the fair modes).

The order is decided once, when a track is inserted, so the deque always holds the play order and
the positions members see are the ones that play. A fair mode gives each queued track a *key*: how
much its member is already served ahead of it (tracks, or seconds of listening), counting the track
that played last. The queue stays sorted by key and a new track goes after the last track whose key
is not larger than its own, so it waits behind everyone's earlier turns and ahead of later ones.
Tracks that are not the new member's keep their keys, so inserting never reorders them. A manual
``move`` or ``shuffle`` breaks the sorting; later inserts still go after the last key not larger.
"""

from __future__ import annotations

import bisect
import enum
import logging
from collections.abc import Iterable, Sequence

from audio.track import Track

log = logging.getLogger(__name__)

UNKNOWN_LENGTH = 240.0  # what a live stream or an unmeasured file costs in FAIR_TIME


class QueueMode(enum.StrEnum):
    FIFO = "fifo"  # arrival order
    FAIR = "fair"  # round-robin by member: one track each per round
    FAIR_TIME = "fairtime"  # round-robin by listening time: a member with long tracks waits longer

    @property
    def description(self) -> str:
        return _DESCRIPTIONS[self]


_DESCRIPTIONS = {
    QueueMode.FIFO: "first come, first served",
    QueueMode.FAIR: "one track per member in turn",
    QueueMode.FAIR_TIME: "members take turns by listening time",
}


def cost(track: Track, mode: QueueMode) -> float:
    """How much one track serves its member: one turn, or its length in seconds."""
    if mode is QueueMode.FAIR_TIME:
        return track.duration if track.duration is not None and track.duration > 0 else UNKNOWN_LENGTH
    return 1.0


def _served(queued: Iterable[Track], mode: QueueMode, last: Track | None) -> dict[int | None, float]:
    """What each member is served by ``last`` and the queued tracks: the key their next track gets."""
    served: dict[int | None, float] = {}
    if last is not None:
        served[last.requester_id] = cost(last, mode)
    for track in queued:
        served[track.requester_id] = served.get(track.requester_id, 0.0) + cost(track, mode)
    return served


def keys(queued: Sequence[Track], mode: QueueMode, last: Track | None = None) -> list[float]:
    """Each queued track's key: what its member got before it (``last`` is the track that played last)."""
    served: dict[int | None, float] = {}
    if last is not None:
        served[last.requester_id] = cost(last, mode)
    result = []
    for track in queued:
        key = served.get(track.requester_id, 0.0)
        result.append(key)
        served[track.requester_id] = key + cost(track, mode)
    return result


def placed(
    queued: Sequence[Track], batch: Sequence[Track], mode: QueueMode, last: Track | None = None
) -> tuple[list[Track], int]:
    """``queued`` with ``batch`` placed one by one in its order, and the 0-based index of ``batch[0]``.

    The keys are computed once; while they are sorted (always, unless a member moved or shuffled
    tracks) each place is a binary search, else a scan from the back.
    """
    tracks = list(queued)
    if mode is QueueMode.FIFO:
        return tracks + list(batch), len(tracks)
    ahead = keys(tracks, mode, last)
    served = _served(tracks, mode, last)
    in_order = all(a <= b for a, b in zip(ahead, ahead[1:], strict=False))
    first = len(tracks)
    for number, track in enumerate(batch):
        mine = served.get(track.requester_id, 0.0)
        if in_order:
            index = bisect.bisect_right(ahead, mine)
        else:
            index = len(ahead)
            while index > 0 and ahead[index - 1] > mine:
                index -= 1
        tracks.insert(index, track)
        ahead.insert(index, mine)
        served[track.requester_id] = mine + cost(track, mode)
        if number == 0:
            first = index
        elif index <= first:
            first += 1
    return tracks, first


def insertion_index(queued: Sequence[Track], track: Track, mode: QueueMode, last: Track | None = None) -> int:
    """The 0-based index at which ``track`` joins ``queued`` under ``mode``."""
    return placed(queued, [track], mode, last)[1]


def ordered(tracks: Sequence[Track], mode: QueueMode, last: Track | None = None) -> list[Track]:
    """``tracks`` as the mode would have placed them, had they arrived in this order (a mode change)."""
    return placed([], tracks, mode, last)[0]


def turn_order(queued: Sequence[Track], limit: int = 5) -> list[int | None]:
    """The members in the order their next track comes up (first appearance in the queue)."""
    seen: list[int | None] = []
    for track in queued:
        if track.requester_id not in seen:
            seen.append(track.requester_id)
            if len(seen) == limit:
                break
    return seen
