"""Fixtures and helpers for the TimedAudio and GuildPlayer tests (imported by those modules).

The media are real files made by ffmpeg and served over HTTP from 127.0.0.1, because production
always streams http(s) and TimedAudio refuses anything else. The stream resolver is a table from
page URL to Stream: it stands in for the Extractor (which needs yt-dlp and the internet), and
exercises the same ``async stream(track)`` contract.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import pytest
import pytest_asyncio

from audio.track import Provider, Stream, Track
from tests.audio.voice_collector import VoiceCollector
from tests.media import MediaServer, generate_clock, generate_tone, media_server

SAMPLE_RATE = 48000
TONES = (330, 550, 770)  # three tracks told apart by pitch
TONE_SECONDS = 1.0
CLOCK_SECONDS = 10


@pytest.fixture(scope="session")
def player_media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("player-media")
    for freq in TONES:
        generate_tone(root / f"tone{freq}.mp3", freq, TONE_SECONDS)
    generate_tone(root / "long440.mp3", 440, 3)
    generate_clock(root / "clock.mp3", CLOCK_SECONDS)
    return root


@pytest.fixture(scope="module")
def player_server(player_media_dir: Path) -> Iterator[MediaServer]:
    """One server per test module (stopping one takes half a second); its request log is shared."""
    with media_server(player_media_dir) as server:
        yield server


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
    """The test tracks, each wired to a served file."""

    server: MediaServer
    resolver: TableResolver
    tones: tuple[Track, ...]
    long: Track
    clock: Track

    def track(self, name: str, file: str, duration: float | None) -> Track:
        return self.resolver.add(make_track(name, duration), Stream(self.server.url(file), {}))


@pytest.fixture
def catalog(player_server: MediaServer) -> Catalog:
    resolver = TableResolver()
    cat = Catalog(player_server, resolver, (), make_track("unused", None), make_track("unused", None))
    cat.tones = tuple(cat.track(f"tone{f}", f"tone{f}.mp3", TONE_SECONDS) for f in TONES)
    cat.long = cat.track("long440", "long440.mp3", 3.0)
    cat.clock = cat.track("clock", "clock.mp3", float(CLOCK_SECONDS))
    return cat


@pytest_asyncio.fixture
async def collector() -> AsyncIterator[VoiceCollector]:
    voice = VoiceCollector(asyncio.get_running_loop())
    yield voice
    await voice.close()


class RecordingListener:
    """Keeps every event; tests wait on a condition instead of sleeping."""

    def __init__(self) -> None:
        self.events: list[tuple[Any, ...]] = []
        self._cond = asyncio.Condition()

    async def _record(self, *event: Any) -> None:
        async with self._cond:
            self.events.append(event)
            self._cond.notify_all()

    async def track_started(self, player: Any, track: Track) -> None:
        await self._record("started", track)

    async def track_ended(self, player: Any, track: Track, reason: Any, error: Exception | None) -> None:
        await self._record("ended", track, reason, error)

    async def state_changed(self, player: Any) -> None:
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


# -- analysis -------------------------------------------------------------------------------


def mono(pcm: bytes) -> np.ndarray:
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    return samples.reshape(-1, 2).mean(axis=1)


def dominant_frequency(pcm: bytes) -> float:
    """The loudest frequency in ``pcm`` (48 kHz stereo s16le), Hann-windowed FFT."""
    signal = mono(pcm)
    if signal.size == 0:
        raise ValueError("no audio")
    spectrum = np.abs(np.fft.rfft(signal * np.hanning(signal.size)))
    spectrum[0] = 0.0
    return float(np.fft.rfftfreq(signal.size, 1 / SAMPLE_RATE)[int(np.argmax(spectrum))])


def rms(pcm: bytes) -> float:
    signal = mono(pcm)
    return float(np.sqrt(np.mean(signal**2)))


def ffmpeg_children() -> list[psutil.Process]:
    """Our ffmpeg child processes that are still alive (zombies count: they were never reaped)."""
    found = []
    for child in psutil.Process().children(recursive=True):
        try:
            if "ffmpeg" in child.name():
                found.append(child)
        except psutil.NoSuchProcess:
            continue
    return found


async def wait_no_ffmpeg(timeout: float = 10.0) -> list[psutil.Process]:
    """Poll until no ffmpeg child is left; returns the leftovers on timeout.

    Polling (not ``psutil.wait_procs``) on purpose: waiting would reap zombies and hide exactly
    the leak this looks for.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        left = ffmpeg_children()
        if not left or loop.time() >= deadline:
            return left
        await asyncio.sleep(0.05)
