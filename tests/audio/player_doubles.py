"""Stand-ins for the player's collaborators: a stream resolver, a recording listener, test tracks.

The resolver is a table from page URL to Stream. It stands in for the Extractor (which needs
yt-dlp and the internet) and keeps the same ``async stream(track)`` contract; the streams it hands
out are real files on the loopback media server.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from audio.events import PlayerEvent, PlayerEvents, StateChanged, Subscriber, TrackEnded, TrackStarted
from audio.track import Provider, Stream, Track
from tests.media import MediaServer

TONES = (330, 550, 770)  # three tracks told apart by pitch
TONE_SECONDS = 1.0
CLOCK_SECONDS = 10


def make_track(name: str, duration: float | None) -> Track:
    return Track(
        title=name,
        page_url=f"https://media.test/{name}",  # only a key for the resolver; never fetched
        duration=duration,
        uploader=None,
        thumbnail=None,
        provider=Provider.DIRECT,
    )


class TableResolver:
    """``stream(track)`` from a table; an Exception value is raised instead (a failing extraction)."""

    def __init__(self) -> None:
        self.table: dict[str, Stream | Exception] = {}
        self.calls: list[Track] = []

    def add(self, track: Track, value: Stream | Exception) -> Track:
        self.table[track.page_url] = value
        return track

    async def stream(self, track: Track) -> Stream:
        self.calls.append(track)
        await asyncio.sleep(0)  # a real extractor always yields to the loop
        value = self.table[track.page_url]
        if isinstance(value, Exception):
            raise value
        return value


@dataclass
class Catalog:
    """The test tracks, each wired to a file on the media server."""

    server: MediaServer
    resolver: TableResolver

    def track(self, name: str, file: str, duration: float | None) -> Track:
        return self.resolver.add(make_track(name, duration), Stream(self.server.url(file), {}))

    def __post_init__(self) -> None:
        self.tones = tuple(self.track(f"tone{f}", f"tone{f}.mp3", TONE_SECONDS) for f in TONES)
        self.long = self.track("long440", "long440.mp3", 3.0)  # 3 s of 440 Hz
        self.clock = self.track("clock", "clock.mp3", float(CLOCK_SECONDS))


def bus(*subscribers: Subscriber) -> PlayerEvents:
    """An event bus with ``subscribers`` on it, in that order."""
    events = PlayerEvents()
    for subscriber in subscribers:
        events.subscribe(subscriber)
    return events


class RecordingListener:
    """Keeps every event as a tuple (("started", track), ("ended", track, reason, error), ("state",));
    tests wait on a condition instead of sleeping."""

    def __init__(self) -> None:
        self.events: list[tuple[Any, ...]] = []
        self._cond = asyncio.Condition()

    async def _record(self, *event: Any) -> None:
        async with self._cond:
            self.events.append(event)
            self._cond.notify_all()

    async def __call__(self, event: PlayerEvent) -> None:
        if isinstance(event, TrackStarted):
            await self._record("started", event.track)
        elif isinstance(event, TrackEnded):
            await self._record("ended", event.track, event.reason, event.error)
        elif isinstance(event, StateChanged):
            await self._record("state")

    def of(self, kind: str) -> list[tuple[Any, ...]]:
        return [e for e in self.events if e[0] == kind]

    async def wait_for(self, predicate: Callable[[RecordingListener], bool], timeout: float = 10.0) -> None:
        async with self._cond:
            await asyncio.wait_for(self._cond.wait_for(lambda: predicate(self)), timeout)

    async def wait_ended(self, count: int, timeout: float = 10.0) -> list[tuple[Any, ...]]:
        await self.wait_for(lambda r: len(r.of("ended")) >= count, timeout)
        return self.of("ended")

    async def wait_started(self, count: int, timeout: float = 10.0) -> list[tuple[Any, ...]]:
        await self.wait_for(lambda r: len(r.of("started")) >= count, timeout)
        return self.of("started")
