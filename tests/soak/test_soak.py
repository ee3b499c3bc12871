"""Soak: 500 short tracks through one GuildPlayer leave no ffmpeg, no extra fd, no memory growth.

Real ffmpeg over loopback HTTP, played by discord's own AudioPlayer thread (the voice collector,
unpaced, keeping a frame count instead of the frames); the media server runs in a child process. Memory is compared between the warm-up
point (track 50) and track 500, both taken while a track plays, so the two moments hold the same
kind of state; file descriptors are compared with the count before the player existed.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import subprocess
import sys
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import discord
import psutil
import pytest

from audio.events import PlayerEvent, TrackEnded, TrackStarted
from audio.player import GuildPlayer, LoopMode
from audio.track import Stream
from tests.audio.ffmpeg_processes import ffmpeg_children, wait_no_ffmpeg
from tests.audio.player_doubles import TableResolver, bus, make_track
from tests.audio.voice_collector import VoiceCollector
from tests.media import generate_tone

pytestmark = pytest.mark.timeout(240)  # ~55 s on 2 loaded cores; ffmpeg start-up dominates

TRACKS = 500
WARM_UP = 50
TRACK_SECONDS = 0.25
FREQS = (400, 500, 600, 700)
FD_SLACK = 2  # e.g. a pooled executor thread's eventfd that may come or go
TRACEMALLOC_SLACK = 1_000_000
RSS_SLACK = 4 * 1024 * 1024

log = logging.getLogger(__name__)
REPO = Path(__file__).resolve().parents[2]


class CountingCollector(VoiceCollector):
    """The voice collector, minus the memory: counts frames and forgets finished player threads."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(loop)
        self.sent = 0

    def play(
        self,
        source: discord.AudioSource,
        *,
        after: Callable[[Exception | None], Any] | None = None,
        fec: bool = True,
    ) -> None:
        self._threads = [t for t in self._threads if t.is_alive()]
        with self._cond:
            self.after_errors = [e for e in self.after_errors if e is not None]
            self.fec.clear()
        super().play(source, after=after, fec=fec)

    def send_audio_packet(self, data: bytes, *, encode: bool = True) -> None:
        if encode:
            with self._cond:
                self.sent += 1


class StartCounter:
    """A listener that counts track starts and failures and wakes the test at chosen counts."""

    def __init__(self) -> None:
        self.started = 0
        self.failed = 0
        self._waiters: dict[int, asyncio.Event] = {}

    def at(self, count: int) -> asyncio.Event:
        return self._waiters.setdefault(count, asyncio.Event())

    def __call__(self, event: PlayerEvent) -> None:
        if isinstance(event, TrackStarted):
            self.started += 1
            if (waiter := self._waiters.get(self.started)) is not None:
                waiter.set()
        elif isinstance(event, TrackEnded) and event.error is not None:
            self.failed += 1


_SERVE = """
import sys
from tests.media import media_server
with media_server(sys.argv[1]) as server:
    print(server.port, flush=True)
    sys.stdin.read()
"""


@pytest.fixture(scope="module")
def soak_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The loopback media server in a child process, so its request log is not in our memory.

    Yields the base URL; the server stops when its stdin closes.
    """
    root = tmp_path_factory.mktemp("soak-media")
    for freq in FREQS:
        generate_tone(root / f"s{freq}.mp3", freq, TRACK_SECONDS)
    proc = subprocess.Popen(
        [sys.executable, "-c", _SERVE, str(root)],
        cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None and proc.stdin is not None
        port = int(proc.stdout.readline())
        yield f"http://127.0.0.1:{port}"
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def measure() -> tuple[int, int]:
    gc.collect()
    current, _ = tracemalloc.get_traced_memory()
    return current, psutil.Process().memory_info().rss


async def test_500_short_tracks_leak_nothing(soak_server: str) -> None:
    loop = asyncio.get_running_loop()
    resolver = TableResolver()
    tracks = [
        resolver.add(make_track(f"s{f}", TRACK_SECONDS), Stream(f"{soak_server}/s{f}.mp3", {})) for f in FREQS
    ]
    me = psutil.Process()
    assert ffmpeg_children() == []
    fds_before = me.num_fds()
    collector = CountingCollector(loop)
    counter = StartCounter()
    player = GuildPlayer(77, extractor=resolver, loop=loop, events=bus(counter))
    player.voice = collector
    warmed, done = counter.at(WARM_UP), counter.at(TRACKS)
    tracemalloc.start()
    try:
        player.set_loop(LoopMode.QUEUE)
        player.enqueue(tracks)
        await asyncio.wait_for(warmed.wait(), 30)
        traced_warm, rss_warm = measure()
        started = loop.time()
        await asyncio.wait_for(done.wait(), 200)
        elapsed = loop.time() - started
        traced_end, rss_end = measure()
    finally:
        tracemalloc.stop()
        await player.close()
        await collector.close()
    leftovers = await wait_no_ffmpeg()
    fds_after = me.num_fds()
    log.warning(
        "soak: %d tracks in %.1f s after warm-up; tracemalloc %+d B, RSS %+d B, fds %d -> %d, frames %d",
        TRACKS - WARM_UP, elapsed, traced_end - traced_warm, rss_end - rss_warm, fds_before, fds_after, collector.sent,
    )  # fmt: skip
    print(
        f"soak: {TRACKS - WARM_UP} tracks in {elapsed:.1f} s; tracemalloc {traced_end - traced_warm:+d} B; "
        f"RSS {rss_end - rss_warm:+d} B; fds {fds_before} -> {fds_after}; frames {collector.sent}"
    )
    assert counter.failed == 0
    assert leftovers == []
    assert fds_after <= fds_before + FD_SLACK
    assert traced_end - traced_warm < TRACEMALLOC_SLACK
    assert rss_end - rss_warm < RSS_SLACK
    # Every track was really played, not just started: ~12 frames of 20 ms each.
    assert collector.sent >= TRACKS * (TRACK_SECONDS / 0.02) * 0.9
