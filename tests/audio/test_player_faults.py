"""Faults under a GuildPlayer with real ffmpeg: dead sources, killed or stuck ffmpeg, dropped streams.

Each test plays real files over loopback HTTP through discord's own AudioPlayer thread (the voice
collector) and judges the outcome from the collected PCM. The 10 s clock file changes pitch every
second, so where a restarted track resumed can be read off the audio: every 0.1 s window whose
centre is well inside a second must carry that second's pitch on the one timeline of frames heard.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Collection, Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
import pytest_asyncio

from audio.errors import PlayerError
from audio.options import PlayerOptions
from audio.player import EndReason, GuildPlayer, StreamResolver
from audio.timed_audio import FRAME_SECONDS
from audio.track import Stream, Track
from tests.audio.ffmpeg_processes import wait_no_ffmpeg
from tests.audio.heard_audio import current_source
from tests.audio.pcm_analysis import dominant_frequency
from tests.audio.player_doubles import CLOCK_SECONDS, Catalog, RecordingListener, bus, make_track
from tests.audio.voice_collector import VoiceCollector
from tests.media import CLOCK_BASE_HZ, CLOCK_STEP_HZ, MediaServer, media_server

pytest_plugins = ("tests.audio.player_fixtures",)

pytestmark = pytest.mark.timeout(60)

WINDOW_FRAMES = 5  # 0.1 s
CUT_FRACTION = 0.4


class SequenceResolver:
    """Hands out the next Stream of a list on every call (a fresh media URL each time)."""

    def __init__(self, streams: dict[str, list[Stream]]) -> None:
        self.streams = streams
        self.calls: list[Track] = []

    async def stream(self, track: Track) -> Stream:
        self.calls.append(track)
        await asyncio.sleep(0)
        queue = self.streams[track.page_url]
        return queue.pop(0) if len(queue) > 1 else queue[0]

    def count(self, track: Track) -> int:
        return sum(1 for t in self.calls if t is track)


@pytest.fixture(scope="module")
def cut_server(player_media_dir: Path) -> Iterator[MediaServer]:
    """Drops the connection at 40 % of clock.mp3; ``/clock.mp3?v=1`` answers only once."""
    with media_server(
        player_media_dir,
        truncate_paths={"/clock.mp3": CUT_FRACTION},
        expiring_paths={"/clock.mp3?v=1"},
        hang_paths={"/hang.mp3"},
    ) as server:
        yield server


def make_player(
    resolver: StreamResolver, collector: VoiceCollector, listener: RecordingListener, **options: Any
) -> GuildPlayer:
    player = GuildPlayer(
        4321,
        extractor=resolver,
        loop=asyncio.get_running_loop(),
        events=bus(listener),
        options=PlayerOptions(**options),
    )
    player.voice = collector
    return player


@pytest_asyncio.fixture
async def closing() -> AsyncIterator[list[GuildPlayer]]:
    players: list[GuildPlayer] = []
    yield players
    for player in players:
        await player.close()
    assert await wait_no_ffmpeg() == [], "ffmpeg processes leaked"


def clock_second(pcm: bytes) -> int:
    return round((dominant_frequency(pcm) - CLOCK_BASE_HZ) / CLOCK_STEP_HZ)


def misplaced_windows(voice: VoiceCollector, *, skip_frames: Collection[int] = ()) -> list[tuple[float, int]]:
    """(time, heard second) of each 0.1 s window well inside a second that carries another second.

    The time is the window's place on the timeline of all frames heard, across every restart.
    Windows touching a frame in ``skip_frames`` (a restart's first frames) are not judged.
    """
    wrong = []
    total = voice.frame_count()
    for start in range(0, total - WINDOW_FRAMES + 1, WINDOW_FRAMES):
        if any(start <= f < start + WINDOW_FRAMES for f in skip_frames):
            continue
        centre = (start + WINDOW_FRAMES / 2) * FRAME_SECONDS
        if not 0.35 <= centre - math.floor(centre) <= 0.65:
            continue
        heard = clock_second(voice.pcm(start, start + WINDOW_FRAMES))
        if heard != math.floor(centre):
            wrong.append((round(centre, 2), heard))
    return wrong


def restart_frames(voice: VoiceCollector) -> set[int]:
    """Global indices of the first frames of each play after the first."""
    firsts: set[int] = set()
    seen: set[int] = set()
    with voice._cond:
        frames = list(voice.frames)
    for i, frame in enumerate(frames):
        if frame.play_index not in seen:
            seen.add(frame.play_index)
            if frame.play_index > 0:
                firsts.update({i, i + 1})
    return firsts


def kill(pid: int | None) -> None:
    assert pid is not None
    psutil.Process(pid).kill()


async def test_killed_ffmpeg_resumes_at_the_same_position_on_a_fresh_stream(
    catalog: Catalog, collector: VoiceCollector, listener: RecordingListener, closing: list[GuildPlayer]
) -> None:
    player = make_player(catalog.resolver, collector, listener)
    closing.append(player)
    collector.hold_at(170)  # 3.4 s into the clock
    player.enqueue([catalog.clock])
    assert await collector.wait_held()
    killed = current_source(collector)
    kill(killed.pid)
    collector.release()
    ended = await listener.wait_ended(1, timeout=20)
    assert [(e[1], e[2], e[3]) for e in ended] == [(catalog.clock, EndReason.FINISHED, None)]
    assert len(listener.of("started")) == 1  # a restart is not a new track
    assert collector.plays == 2
    assert catalog.resolver.calls.count(catalog.clock) == 2  # a fresh URL for the restart
    restart_at = len(collector.frames_of(0)) * FRAME_SECONDS
    assert 3.4 <= restart_at < CLOCK_SECONDS - 1.5
    # One unbroken clock: nothing repeated, nothing skipped.
    assert collector.frame_count() * FRAME_SECONDS == pytest.approx(CLOCK_SECONDS, abs=0.1)
    assert misplaced_windows(collector, skip_frames=restart_frames(collector)) == []


async def test_a_stuck_ffmpeg_is_killed_by_the_stall_watch_and_the_track_resumes(
    catalog: Catalog, collector: VoiceCollector, listener: RecordingListener, closing: list[GuildPlayer]
) -> None:
    player = make_player(catalog.resolver, collector, listener, stall_timeout=0.6)
    closing.append(player)
    collector.hold_at(120)
    player.enqueue([catalog.clock])
    assert await collector.wait_held()
    stuck = psutil.Process(current_source(collector).pid)
    stuck.suspend()  # alive, holding its pipe, producing nothing: only the position tells
    collector.release()
    ended = await listener.wait_ended(1, timeout=20)
    assert [(e[1], e[2]) for e in ended] == [(catalog.clock, EndReason.FINISHED)]
    assert collector.plays == 2
    assert not stuck.is_running() or stuck.status() == psutil.STATUS_ZOMBIE
    assert collector.frame_count() * FRAME_SECONDS == pytest.approx(CLOCK_SECONDS, abs=0.1)
    assert misplaced_windows(collector, skip_frames=restart_frames(collector)) == []


async def test_a_connection_dropped_at_40_percent_is_resumed_by_ffmpeg_itself(
    cut_server: MediaServer,
    collector: VoiceCollector,
    listener: RecordingListener,
    closing: list[GuildPlayer],
) -> None:
    """The server closes the socket at 40 % of the bytes: ffmpeg's -reconnect asks for the rest
    with a Range request and the player never notices (one ffmpeg, one resolve)."""
    clock = make_track("clock-cut", float(CLOCK_SECONDS))
    resolver = SequenceResolver({clock.page_url: [Stream(cut_server.url("clock.mp3"), {})]})
    player = make_player(resolver, collector, listener)
    closing.append(player)
    before = cut_server.request_count()
    player.enqueue([clock])
    ended = await listener.wait_ended(1, timeout=20)
    assert [(e[1], e[2]) for e in ended] == [(clock, EndReason.FINISHED)]
    requests = cut_server.requests[before:]
    size = (Path(cut_server.root) / "clock.mp3").stat().st_size
    cut = int(size * CUT_FRACTION)
    assert [r.headers.get("Range") for r in requests if r.method == "GET"][-1] == f"bytes={cut}-"
    assert collector.plays == 1 and resolver.count(clock) == 1  # the player did not step in
    assert collector.frame_count() * FRAME_SECONDS == pytest.approx(CLOCK_SECONDS, abs=0.1)
    assert misplaced_windows(collector) == []


async def test_a_dropped_stream_whose_url_expired_is_resumed_by_the_player(
    cut_server: MediaServer,
    collector: VoiceCollector,
    listener: RecordingListener,
    closing: list[GuildPlayer],
) -> None:
    """Dropped at 40 % and the URL is dead afterwards (403), so ffmpeg's reconnect fails: the
    player resolves a fresh URL and restarts ffmpeg at the position it had reached."""
    clock = make_track("clock-expiring", float(CLOCK_SECONDS))
    resolver = SequenceResolver(
        {
            clock.page_url: [
                Stream(cut_server.url("clock.mp3?v=1"), {}),
                Stream(cut_server.url("clock.mp3?v=2"), {}),
            ]
        }
    )
    player = make_player(resolver, collector, listener)
    closing.append(player)
    before = cut_server.request_count()
    player.enqueue([clock])
    ended = await listener.wait_ended(1, timeout=30)
    assert [(e[1], e[2]) for e in ended] == [(clock, EndReason.FINISHED)]
    paths = [r.path for r in cut_server.requests[before:]]
    assert paths.count("/clock.mp3?v=1") >= 2  # ffmpeg's own retry, refused
    assert "/clock.mp3?v=2" in paths
    assert collector.plays == 2 and resolver.count(clock) == 2
    restart_at = len(collector.frames_of(0)) * FRAME_SECONDS
    assert CLOCK_SECONDS * 0.3 < restart_at < CLOCK_SECONDS * 0.5  # where the bytes ran out
    assert collector.frame_count() * FRAME_SECONDS == pytest.approx(CLOCK_SECONDS, abs=0.1)
    assert misplaced_windows(collector, skip_frames=restart_frames(collector)) == []


async def test_a_source_that_keeps_breaking_is_restarted_twice_then_skipped(
    catalog: Catalog, collector: VoiceCollector, listener: RecordingListener, closing: list[GuildPlayer]
) -> None:
    player = make_player(catalog.resolver, collector, listener)
    closing.append(player)
    after_it = catalog.tones[1]
    collector.hold_at(60)
    player.enqueue([catalog.clock, after_it])
    for attempt in range(3):
        assert await collector.wait_held()
        assert collector.plays == attempt + 1
        kill(current_source(collector).pid)
        collector.release(hold_next_at=collector.frame_count() + 60 if attempt < 2 else None)
    ended = await listener.wait_ended(2, timeout=20)
    assert [(e[1], e[2]) for e in ended] == [
        (catalog.clock, EndReason.FAILED),
        (after_it, EndReason.FINISHED),
    ]
    error = ended[0][3]
    assert isinstance(error, PlayerError) and "kept breaking off" in error.user_message
    assert catalog.resolver.calls.count(catalog.clock) == 3  # the first URL and two fresh ones
    assert collector.plays == 4  # three tries of the clock, then the next track
    assert dominant_frequency(collector.pcm(play_index=3)) == pytest.approx(550, abs=3)


async def test_a_404_fails_once_without_restarts_and_the_queue_goes_on(
    catalog: Catalog, collector: VoiceCollector, listener: RecordingListener, closing: list[GuildPlayer]
) -> None:
    missing = catalog.track("missing", "nope.mp3", 5.0)
    player = make_player(catalog.resolver, collector, listener)
    closing.append(player)
    player.enqueue([missing, catalog.tones[0]])
    ended = await listener.wait_ended(2)
    assert [(e[1], e[2]) for e in ended] == [
        (missing, EndReason.FAILED),
        (catalog.tones[0], EndReason.FINISHED),
    ]
    assert catalog.resolver.calls.count(missing) == 1


async def test_a_source_that_never_answers_times_out_and_the_queue_goes_on(
    cut_server: MediaServer,
    catalog: Catalog,
    collector: VoiceCollector,
    listener: RecordingListener,
    closing: list[GuildPlayer],
) -> None:
    hanging = make_track("hanging", 5.0)
    tone = catalog.tones[2]
    resolver = SequenceResolver(
        {
            hanging.page_url: [Stream(cut_server.url("hang.mp3"), {})],
            tone.page_url: [Stream(catalog.server.url("tone770.mp3"), {})],
        }
    )
    player = make_player(resolver, collector, listener, rw_timeout=1.0)
    closing.append(player)
    loop = asyncio.get_running_loop()
    started = loop.time()
    player.enqueue([hanging, tone])
    ended = await listener.wait_ended(1, timeout=15)
    waited = loop.time() - started
    assert [(e[1], e[2]) for e in ended] == [(hanging, EndReason.FAILED)]
    assert 0.9 <= waited < 4.0  # ffmpeg's -rw_timeout, not the 15 s default
    ended = await listener.wait_ended(2)
    assert ended[1][1:3] == (tone, EndReason.FINISHED)
    assert resolver.count(hanging) == 1
    assert dominant_frequency(collector.pcm(play_index=collector.plays - 1)) == pytest.approx(770, abs=3)


async def test_pause_seek_and_skip_never_trigger_a_restart(
    catalog: Catalog, collector: VoiceCollector, listener: RecordingListener, closing: list[GuildPlayer]
) -> None:
    player = make_player(catalog.resolver, collector, listener, stall_timeout=0.4)
    closing.append(player)
    collector.hold_at(30)
    player.enqueue([catalog.clock, catalog.tones[0]])
    assert await collector.wait_held()
    player.pause()
    collector.release()
    assert await collector.wait_for(lambda c: c.silence_packets >= 1)
    await asyncio.sleep(1.0)  # the measured stretch: paused for 2.5 stall timeouts
    assert collector.plays == 1 and player.current is catalog.clock
    player.resume()
    await player.seek(6.0)
    player.skip()
    ended = await listener.wait_ended(2)
    assert [(e[1], e[2]) for e in ended] == [
        (catalog.clock, EndReason.SKIPPED),
        (catalog.tones[0], EndReason.FINISHED),
    ]
    assert catalog.resolver.calls.count(catalog.clock) == 1
    assert collector.plays == 2


async def test_a_voice_drop_waits_for_the_reconnect_and_resumes_where_it_was_even_if_paused(
    catalog: Catalog, collector: VoiceCollector, listener: RecordingListener, closing: list[GuildPlayer]
) -> None:
    """discord's AudioPlayer gives up on the source when the voice connection is gone (here at
    once); the player keeps the track, takes a pause typed meanwhile, and restarts it at its
    position, paused, once the connection is back."""
    player = make_player(catalog.resolver, collector, listener, reconnect_wait=20.0)
    closing.append(player)
    collector.hold_at(150)
    player.enqueue([catalog.clock])
    assert await collector.wait_held()
    collector.disconnect()
    collector.release()
    assert await collector.wait_for(lambda c: len(c.after_errors) == 1)
    player.pause()  # during the outage: not an error, and remembered
    assert player.is_paused and player.current is catalog.clock
    assert player.position == pytest.approx(
        151 * FRAME_SECONDS, abs=0.001
    )  # the frame discord dropped counts
    assert listener.of("ended") == []
    collector._connected = True  # the voice connection is back (the collector has no public switch)
    assert await collector.wait_for(lambda c: c.plays == 2 and c.is_paused())
    heard = collector.frame_count()
    assert heard <= 152  # at most one frame slipped out before the pause took hold
    player.resume()
    ended = await listener.wait_ended(1, timeout=20)
    assert [(e[1], e[2]) for e in ended] == [(catalog.clock, EndReason.FINISHED)]
    assert catalog.resolver.calls.count(catalog.clock) == 2
    assert collector.frame_count() * FRAME_SECONDS == pytest.approx(CLOCK_SECONDS - FRAME_SECONDS, abs=0.1)
    assert misplaced_windows(collector, skip_frames=restart_frames(collector)) == []


async def test_a_voice_connection_that_never_comes_back_detaches_and_keeps_the_track(
    catalog: Catalog, collector: VoiceCollector, listener: RecordingListener, closing: list[GuildPlayer]
) -> None:
    player = make_player(catalog.resolver, collector, listener, reconnect_wait=0.5)
    closing.append(player)
    collector.hold_at(50)
    player.enqueue([catalog.clock, catalog.tones[0]])
    assert await collector.wait_held()
    collector.disconnect()
    collector.release()
    ended = await listener.wait_ended(1, timeout=10)
    assert [(e[1], e[2]) for e in ended] == [(catalog.clock, EndReason.STOPPED)]
    assert player.voice is None and player.current is None
    assert list(player.queue) == [catalog.clock, catalog.tones[0]]
    assert await wait_no_ffmpeg() == []
    assert collector.plays == 1
