"""What plays after a track: the front of the queue, or a track again, by loop mode.

Three places need the answer and must agree: a track that ends pulls the next one into the buffer
(:func:`pull_next`), the deck's gapless hand-over already took the armed track and the queue
catches up (:func:`took`), and the next-track pipeline readies whatever :func:`following` names.
"""

from __future__ import annotations

import enum
import logging

from audio.errors import LimitReached
from audio.events import EndReason
from audio.queue import TrackQueue
from audio.track import Track

log = logging.getLogger(__name__)


class LoopMode(enum.StrEnum):
    OFF = "off"
    TRACK = "track"
    QUEUE = "queue"


def following(queue: TrackQueue, current: Track | None, mode: LoopMode) -> Track | None:
    """The track that will play after ``current``, if nothing changes."""
    if current is not None and mode is LoopMode.TRACK:
        return current
    nxt = queue.peek()
    if nxt is None and current is not None and mode is LoopMode.QUEUE:
        return current
    return nxt


def pull_next(queue: TrackQueue, ended: Track, reason: EndReason, mode: LoopMode) -> Track | None:
    """The track that ``ended`` (for ``reason``) pulls into the buffer; None leaves it empty.

    Only a finished track plays again under TRACK, and only a finished or skipped one goes to the
    back under QUEUE: a failed track would fail again, and a capped one has no end of its own.
    """
    if reason is EndReason.FINISHED and mode is LoopMode.TRACK:
        return ended
    if not reason.may_start_next:
        return None
    if mode is LoopMode.QUEUE and reason in (EndReason.FINISHED, EndReason.SKIPPED):
        loop_back(queue, ended)
    return queue.pop_next()


def took(queue: TrackQueue, previous: Track, track: Track, mode: LoopMode) -> None:
    """The deck went on from ``previous`` to the armed ``track`` by itself: the queue catches up."""
    if mode is LoopMode.QUEUE and track is not previous:
        loop_back(queue, previous)
    # The armed track was the front of the queue, or the current track played again.
    if queue.peek() is track:
        queue.pop_next()
    elif track is not previous:
        queue.discard(track)


def loop_back(queue: TrackQueue, track: Track) -> None:
    try:
        queue.add(track)
    except LimitReached:
        log.info("queue full, %r not looped", track.title)
