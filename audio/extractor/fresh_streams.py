"""Media URLs a resolve already found, kept a short while for the calls that would look them up again.

A single-track resolve gets the track's Stream anyway; handing it to the first ``stream()`` (the
track starting) and to ``measure()`` (ffprobe on a direct file) saves each a lookup. Stream URLs
expire and embed the host's IP, so one is only used while young and far from its expiry, and each
use takes it once.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Collection
from dataclasses import dataclass

from audio.track import Stream

HANDED_STREAM_FRESHNESS = 60.0  # seconds a Stream found by a resolve may stand in for a new lookup
HANDED_STREAM_EXPIRY_MARGIN = 300.0  # and only while its URL has at least this long left to live
_LIMIT = 64


class StreamUse(enum.Enum):
    PLAYBACK = "playback"
    MEASURE = "measure"


@dataclass(slots=True)
class _Kept:
    found: float  # time.monotonic()
    stream: Stream
    uses: set[StreamUse]


class FreshStreams:
    """page URL -> the Stream a resolve found, until each of its uses took it or it went stale."""

    def __init__(self) -> None:
        self._kept: dict[str, _Kept] = {}

    def keep(self, page_url: str, stream: Stream, uses: Collection[StreamUse]) -> None:
        """Keep ``stream`` for ``uses``, replacing what was kept for ``page_url``; drops stale entries
        and the oldest past the limit."""
        now = time.monotonic()
        for url, kept in list(self._kept.items()):
            if now - kept.found > HANDED_STREAM_FRESHNESS:
                del self._kept[url]
        self._kept.pop(page_url, None)
        while len(self._kept) >= _LIMIT:
            del self._kept[next(iter(self._kept))]
        self._kept[page_url] = _Kept(now, stream, set(uses))

    def take(self, page_url: str, use: StreamUse) -> Stream | None:
        """The Stream kept for ``page_url`` and ``use`` if it is still fresh, else None; once only."""
        kept = self._kept.get(page_url)
        if kept is None or use not in kept.uses:
            return None
        kept.uses.discard(use)
        fresh = self._fresh(kept)
        if not fresh or not kept.uses:
            del self._kept[page_url]
        return kept.stream if fresh else None

    @staticmethod
    def _fresh(kept: _Kept) -> bool:
        if time.monotonic() - kept.found > HANDED_STREAM_FRESHNESS:
            return False
        expires_at = kept.stream.expires_at
        return expires_at is None or expires_at - time.time() >= HANDED_STREAM_EXPIRY_MARGIN
