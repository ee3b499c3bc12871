"""The per-guild queue of tracks waiting to play, always held in play order.

Positions are 1-based because users type them (``!remove 3``); every position check happens here so
the error message naming the valid range is the same for every command. Pure Python on purpose: the
queue is tested and benchmarked without discord, and the player only pops from the front. The
``mode`` (:mod:`audio.queue_order`) decides where an added track goes: the back, or its member's
turn; either way the deque is the play order, so positions shown are what plays next.
"""

from __future__ import annotations

import collections
import logging
import math
import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from audio.errors import LimitReached, QueueError
from audio.queue_order import QueueMode, placed
from audio.track import Track

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class QueuePage:
    """One page of the queue listing; ``start`` is the queue position of ``tracks[0]``."""

    number: int
    pages: int
    start: int
    tracks: tuple[Track, ...]
    total: int  # tracks in the whole queue, for the "N tracks queued" footer


class TrackQueue:
    """A ``collections.deque`` of tracks with user-facing positions.

    ``on_change`` is called after every mutation, so the player can refresh its prefetched next
    track and tell its listeners; it is a plain callable so the queue stays free of asyncio.
    ``last_popped`` is the track that left the front last (the one playing, or played last): the
    fair modes count it as its member's turn.
    """

    def __init__(
        self,
        *,
        max_length: int | None = None,
        on_change: Callable[[], None] | None = None,
        mode: QueueMode = QueueMode.FIFO,
    ) -> None:
        if max_length is not None and max_length < 1:
            raise ValueError("max_length must be positive or None")
        self._tracks: collections.deque[Track] = collections.deque()
        self.max_length = max_length
        self.on_change = on_change
        self.mode = mode
        self.last_popped: Track | None = None

    # -- reading ---------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._tracks)

    def __bool__(self) -> bool:
        return bool(self._tracks)

    def __iter__(self) -> Iterator[Track]:
        # A snapshot: the player may pop while a command is still rendering the listing.
        return iter(tuple(self._tracks))

    def peek(self) -> Track | None:
        return self._tracks[0] if self._tracks else None

    def get(self, position: int) -> Track:
        """The track at ``position``, with the same error as :meth:`remove` for a bad one."""
        return self._tracks[self._index(position)]

    def page(self, number: int, size: int = 10) -> QueuePage:
        """Page ``number`` (1-based) of ``size`` tracks; an empty queue still has one (empty) page."""
        if size < 1:
            raise ValueError("page size must be positive")
        total = len(self._tracks)
        pages = max(1, math.ceil(total / size))
        if not 1 <= number <= pages:
            raise QueueError(
                f"There is no page {number}. "
                + ("The queue has only one page." if pages == 1 else f"Pick a page from 1 to {pages}.")
            )
        first = (number - 1) * size
        tracks = tuple(self._tracks[i] for i in range(first, min(first + size, total)))
        return QueuePage(number=number, pages=pages, start=first + 1, tracks=tracks, total=total)

    # -- mutating --------------------------------------------------------------------------

    def add(self, track: Track) -> int:
        """Add ``track`` where the mode puts it (FIFO: the back); returns its position."""
        return self.extend([track])

    def add_next(self, track: Track) -> int:
        """Put ``track`` at the front; returns 1."""
        self._ensure_room(1)
        self._tracks.appendleft(track)
        self._changed()
        return 1

    def extend(self, tracks: Iterable[Track], *, front: bool = False) -> int:
        """Add several tracks, in order, where the mode places them (or at the front), all or none;
        returns the position of the first one.

        All or none, so a playlist that does not fit is refused whole instead of being cut at an
        arbitrary point. Returns 0 when ``tracks`` is empty.
        """
        batch = list(tracks)
        if not batch:
            return 0
        self._ensure_room(len(batch))
        if front:
            self._tracks.extendleft(reversed(batch))
            first = 1
        elif self.mode is QueueMode.FIFO:
            first = len(self._tracks) + 1
            self._tracks.extend(batch)
        else:
            tracks, index = placed(self._tracks, batch, self.mode, self.last_popped)
            self._tracks = collections.deque(tracks)
            first = index + 1
        self._changed()
        return first

    def pop_next(self) -> Track | None:
        if not self._tracks:
            return None
        track = self._tracks.popleft()
        self.last_popped = track
        self._changed()
        return track

    def remove(self, position: int) -> Track:
        index = self._index(position)
        track = self._tracks[index]
        del self._tracks[index]
        self._changed()
        return track

    def replace(self, old: Track, new: Track) -> bool:
        """Put ``new`` where ``old`` (this very object) is queued; False when it is not queued.

        For a track whose details arrive after it was queued (a direct file's duration).
        """
        for index, queued in enumerate(self._tracks):
            if queued is old:
                self._tracks[index] = new
                self._changed()
                return True
        return False

    def discard(self, track: Track) -> bool:
        """Remove this very object wherever it is queued; False when it is not queued."""
        for index, queued in enumerate(self._tracks):
            if queued is track:
                del self._tracks[index]
                self._changed()
                return True
        return False

    def move(self, source: int, target: int) -> Track:
        """Move the track at ``source`` so that it ends up at ``target``; returns it."""
        src = self._index(source)
        dst = self._index(target)
        track = self._tracks[src]
        del self._tracks[src]
        self._tracks.insert(dst, track)
        self._changed()
        return track

    def shuffle(self, rng: random.Random | None = None) -> None:
        items = list(self._tracks)
        (rng or random.Random()).shuffle(items)
        self._tracks = collections.deque(items)
        self._changed()

    def remove_where(self, unwanted: Callable[[Track], bool]) -> list[Track]:
        """Remove every track ``unwanted`` picks (by member, duplicates); returns them in queue order."""
        removed: list[Track] = []
        kept: collections.deque[Track] = collections.deque()
        for track in self._tracks:
            (removed if unwanted(track) else kept).append(track)
        if removed:
            self._tracks = kept
            self._changed()
        return removed

    def drop_first(self, count: int) -> list[Track]:
        """Take the first ``count`` tracks off the front (``skipto``); returns them."""
        count = max(0, min(count, len(self._tracks)))
        dropped = [self._tracks.popleft() for _ in range(count)]
        if dropped:
            self._changed()
        return dropped

    def reset(self, tracks: Iterable[Track]) -> None:
        """Make ``tracks`` the whole queue in this order (``undo``); all or none within the length cap."""
        batch = list(tracks)
        if self.max_length is not None and len(batch) > self.max_length:
            raise LimitReached(f"The queue is full ({self.max_length} tracks).")
        self._tracks = collections.deque(batch)
        self._changed()

    def clear(self) -> int:
        """Empty the queue; returns how many tracks were removed."""
        removed = len(self._tracks)
        self._tracks.clear()
        if removed:
            self._changed()
        return removed

    # -- internals -------------------------------------------------------------------------

    def _index(self, position: int) -> int:
        size = len(self._tracks)
        if size == 0:
            raise QueueError("The queue is empty.")
        if isinstance(position, bool) or not isinstance(position, int) or not 1 <= position <= size:
            valid = "The queue has only track #1." if size == 1 else f"Pick a number from 1 to {size}."
            raise QueueError(f"There is no track #{position}. {valid}")
        return position - 1

    def _ensure_room(self, count: int) -> None:
        if self.max_length is not None and len(self._tracks) + count > self.max_length:
            raise LimitReached(f"The queue is full ({self.max_length} tracks).")

    def _changed(self) -> None:
        if self.on_change is None:
            return
        try:
            self.on_change()
        except Exception:
            log.exception("queue on_change callback failed")
