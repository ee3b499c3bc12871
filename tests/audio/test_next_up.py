"""NextUp's stages, with stand-ins for the resolver and ffmpeg: what is readied, kept, or killed."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from audio.deck import Deck
from audio.next_up import NextUp, Stage
from audio.sources import Tasks
from audio.track import Stream, Track
from tests.audio.player_doubles import make_track

_pids = itertools.count(1000)


@dataclass(eq=False)
class FakeSource:
    """What NextUp and the Deck touch of a TimedAudio."""

    stream: Stream
    start: float
    pid: int = field(default_factory=lambda: next(_pids))
    killed: bool = False

    def cleanup(self) -> None:  # the Deck's, when it is collected
        self.killed = True


class FakeSources:
    """Sources without ffmpeg: every spawn and kill is recorded; lookups wait for ``release``."""

    def __init__(self) -> None:
        self.resolver = self
        self.looked_up: list[Track] = []
        self.spawned: list[FakeSource] = []
        self.release = asyncio.Event()
        self.release.set()

    async def stream(self, track: Track) -> Stream:
        self.looked_up.append(track)
        await self.release.wait()
        return Stream(f"https://media.test/{track.title}.mp3", {})

    async def spawn(self, track: Track, stream: Stream, start: float) -> FakeSource:
        await asyncio.sleep(0)
        source = FakeSource(stream, start)
        self.spawned.append(source)
        return source

    async def fresh(self, track: Track, start: float) -> FakeSource:
        return await self.spawn(track, await self.stream(track), start)

    async def discard(self, source: FakeSource) -> None:
        source.killed = True

    def discard_later(self, source: FakeSource) -> None:
        source.killed = True


@dataclass
class Rig:
    next_up: NextUp
    sources: FakeSources
    ready: list[Track | None]


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    sources = FakeSources()
    tasks = Tasks(asyncio.get_running_loop())
    ready: list[Track | None] = []
    next_up = NextUp(sources, tasks, guild_id=1, on_ready=lambda: ready.append(next_up.track))  # type: ignore[arg-type]
    yield Rig(next_up, sources, ready)
    await tasks.close()


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def deck_with(playing: Any) -> Deck:
    return Deck(playing, ended_cleanly=lambda source: True, on_switch=lambda *args: None)


A, B = make_track("a", 3.0), make_track("b", 3.0)


async def test_a_wanted_track_is_fetched_and_its_ffmpeg_started_only_when_asked(rig: Rig) -> None:
    rig.next_up.want(A)
    assert rig.next_up.stage is Stage.FETCHING
    await settle()
    assert rig.next_up.stage is Stage.FETCHED and rig.sources.spawned == [] and rig.ready == [A]
    rig.next_up.want(A, start=True)
    await settle()
    assert rig.next_up.stage is Stage.STARTED and len(rig.sources.spawned) == 1
    assert rig.sources.looked_up == [A]  # the stream fetched first was used


async def test_a_started_next_track_is_armed_and_handed_over(rig: Rig) -> None:
    rig.next_up.want(A, start=True)
    await settle()
    deck = deck_with(FakeSource(Stream("https://media.test/now.mp3", {}), 0.0))
    rig.next_up.arm(deck, B)  # not the track that comes next: left alone
    assert deck.armed_track is None
    rig.next_up.arm(deck, A)
    assert rig.next_up.stage is Stage.ARMED and deck.armed_track is A
    rig.next_up.handed_over()
    assert rig.next_up.stage is None and not rig.sources.spawned[0].killed


async def test_another_next_track_kills_the_started_and_the_armed_ffmpeg(rig: Rig) -> None:
    rig.next_up.want(A, start=True)
    await settle()
    started = rig.sources.spawned[0]
    rig.next_up.want(B)
    assert started.killed and rig.next_up.track is B
    rig.next_up.want(A, start=True)
    await settle()
    deck = deck_with(FakeSource(Stream("https://media.test/now.mp3", {}), 0.0))
    rig.next_up.arm(deck, A)
    rig.next_up.want(None)
    assert rig.sources.spawned[1].killed and deck.armed_track is None and rig.next_up.stage is None


async def test_a_late_lookup_for_a_track_no_longer_next_is_thrown_away(rig: Rig) -> None:
    rig.sources.release.clear()
    rig.next_up.want(A, start=True)
    await settle()
    rig.next_up.want(B)
    rig.sources.release.set()
    await settle()
    assert rig.next_up.track is B and rig.ready == [B]
    assert [s.killed for s in rig.sources.spawned] in ([], [True])  # A's ffmpeg, if it started, is dead


async def test_a_claimed_track_keeps_what_was_readied_through_a_queue_edit(rig: Rig) -> None:
    rig.next_up.want(A, start=True)
    await settle()
    rig.next_up.claim(A)  # A was placed in the buffer
    rig.next_up.want(B)  # and the queue moved on before A's start took its ffmpeg
    source = await rig.next_up.take(A, 0.0)
    assert source is rig.sources.spawned[0] and not source.killed
    assert rig.sources.looked_up.count(A) == 1 and rig.next_up.track is B


async def test_a_start_elsewhere_than_zero_spawns_fresh(rig: Rig) -> None:
    rig.next_up.want(A, start=True)
    await settle()
    source = await rig.next_up.take(A, 42.0)
    assert source.start == 42.0 and rig.sources.looked_up.count(A) == 2
    assert rig.next_up.stage is Stage.STARTED  # still the next track's ffmpeg (a loop, say)


async def test_a_seek_back_drops_the_next_ffmpeg_but_keeps_its_stream(rig: Rig) -> None:
    rig.next_up.want(A, start=True)
    await settle()
    rig.next_up.drop_ffmpeg()
    assert rig.next_up.stage is Stage.FETCHED and rig.sources.spawned[0].killed


async def test_clear_kills_everything_readied(rig: Rig) -> None:
    rig.next_up.want(A, start=True)
    await settle()
    rig.next_up.claim(A)
    rig.next_up.want(B, start=True)
    await settle()
    await rig.next_up.clear()
    assert rig.next_up.stage is None and all(s.killed for s in rig.sources.spawned)
