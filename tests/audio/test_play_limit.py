"""GuildPlayer's caps for tracks without an end of their own, with real ffmpeg over loopback HTTP.

A live stream stops at ``max_live_duration``, any other track of unknown length at
``max_unknown_duration``; both end with TIME_LIMIT, the queue goes on and no loop mode plays the
capped track again. The media are finite files marked live or left unmeasured, so the caps used
here (well under their length) are what ends them; frame counts show where exactly.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import pytest_asyncio

from audio.options import PlayerOptions
from audio.player import EndReason, GuildPlayer, LoopMode, PlayLimitReached
from audio.track import Stream, Track
from tests.audio.ffmpeg_processes import wait_no_ffmpeg
from tests.audio.heard_audio import pitch_of_source
from tests.audio.player_doubles import Catalog, RecordingListener, bus, make_track
from tests.audio.voice_collector import VoiceCollector
from tests.media import clock_frequency

pytest_plugins = ("tests.audio.player_fixtures",)

pytestmark = pytest.mark.timeout(60)

MakePlayer = Callable[..., GuildPlayer]


@pytest_asyncio.fixture
async def make_player(
    catalog: Catalog, collector: VoiceCollector, listener: RecordingListener
) -> AsyncIterator[MakePlayer]:
    made: list[GuildPlayer] = []

    def make(**caps: Any) -> GuildPlayer:
        player = GuildPlayer(
            1234, extractor=catalog.resolver, loop=asyncio.get_running_loop(), events=bus(listener), options=PlayerOptions(**caps)
        )
        player.voice = collector
        made.append(player)
        return player

    yield make
    for player in made:
        await player.close()
    await collector.close()
    assert await wait_no_ffmpeg() == [], "ffmpeg processes leaked"


def live_clock(catalog: Catalog) -> Track:
    """The 10 s clock file, presented as a live stream (no duration, ``is_live``)."""
    return catalog.resolver.add(
        make_track("live-clock", None), Stream(catalog.server.url("clock.mp3"), {}, is_live=True)
    )


def unmeasured_clock(catalog: Catalog) -> Track:
    """The 10 s clock file as a direct link whose length could not be measured."""
    return catalog.resolver.add(
        make_track("unmeasured-clock", None), Stream(catalog.server.url("clock.mp3"), {})
    )


async def test_a_live_stream_stops_at_the_live_cap_and_the_queue_goes_on(
    make_player: MakePlayer, catalog: Catalog, collector: VoiceCollector, listener: RecordingListener
) -> None:
    player = make_player(max_live_duration=0.5, max_unknown_duration=5.0)
    live = live_clock(catalog)
    player.enqueue([live, catalog.tones[0]])
    ended = await listener.wait_ended(2)
    assert [(e[1], e[2]) for e in ended] == [
        (live, EndReason.TIME_LIMIT),
        (catalog.tones[0], EndReason.FINISHED),
    ]
    cause = ended[0][3]
    assert isinstance(cause, PlayLimitReached) and cause.live and cause.limit == 0.5
    assert ended[1][3] is None
    assert len(collector.frames_of_source(0)) == 25  # 0.5 s of 20 ms frames, not one more
    assert pitch_of_source(collector, 0) == pytest.approx(clock_frequency(0), abs=5)
    assert pitch_of_source(collector, 1) == pytest.approx(330, abs=3)
    assert EndReason.TIME_LIMIT.may_start_next


async def test_a_track_of_unknown_length_stops_at_the_track_cap(
    make_player: MakePlayer, catalog: Catalog, collector: VoiceCollector, listener: RecordingListener
) -> None:
    player = make_player(max_live_duration=5.0, max_unknown_duration=0.5)
    unknown = unmeasured_clock(catalog)
    player.enqueue([unknown])
    ended = await listener.wait_ended(1)
    assert [(e[1], e[2]) for e in ended] == [(unknown, EndReason.TIME_LIMIT)]
    cause = ended[0][3]
    assert isinstance(cause, PlayLimitReached) and not cause.live and cause.limit == 0.5
    assert len(collector.frames_of_source(0)) == 25
    await listener.wait_for(lambda r: r.events[-1] == ("state",))
    assert player.current is None and len(player.queue) == 0


async def test_a_track_of_known_length_is_not_capped(
    make_player: MakePlayer, catalog: Catalog, collector: VoiceCollector, listener: RecordingListener
) -> None:
    player = make_player(max_live_duration=0.2, max_unknown_duration=0.2)
    player.enqueue([catalog.long])
    ended = await listener.wait_ended(1)
    assert [(e[1], e[2], e[3]) for e in ended] == [(catalog.long, EndReason.FINISHED, None)]
    assert len(collector.frames_of_source(0)) == pytest.approx(150, abs=2)  # its whole 3 s


async def test_no_caps_means_an_unknown_length_plays_to_its_end(
    make_player: MakePlayer, catalog: Catalog, collector: VoiceCollector, listener: RecordingListener
) -> None:
    player = make_player()
    unknown = catalog.resolver.add(
        make_track("unmeasured-long", None), Stream(catalog.server.url("long440.mp3"), {})
    )
    player.enqueue([unknown])
    ended = await listener.wait_ended(1)
    assert [(e[1], e[2]) for e in ended] == [(unknown, EndReason.FINISHED)]
    assert len(collector.frames_of_source(0)) == pytest.approx(150, abs=2)


@pytest.mark.parametrize("mode", [LoopMode.TRACK, LoopMode.QUEUE])
async def test_no_loop_mode_plays_a_capped_track_again(
    make_player: MakePlayer, catalog: Catalog, listener: RecordingListener, mode: LoopMode
) -> None:
    player = make_player(max_live_duration=0.3)
    live = live_clock(catalog)
    tone = catalog.tones[1]
    player.set_loop(mode)
    player.enqueue([live, tone])
    ended = await listener.wait_ended(3)
    # The tone loops (by itself, or as the whole queue); the capped stream never comes back.
    assert [(e[1], e[2]) for e in ended[:3]] == [
        (live, EndReason.TIME_LIMIT),
        (tone, EndReason.FINISHED),
        (tone, EndReason.FINISHED),
    ]
    assert live not in player.queue
    await player.stop()


async def test_a_seek_counts_on_to_the_cap_from_where_it_lands(
    make_player: MakePlayer, catalog: Catalog, collector: VoiceCollector, listener: RecordingListener
) -> None:
    player = make_player(max_unknown_duration=1.0)
    unknown = unmeasured_clock(catalog)
    collector.hold_at(10)
    player.enqueue([unknown])
    assert await collector.wait_held()
    await player.seek(0.6)
    collector.release()
    ended = await listener.wait_ended(1)
    assert [(e[1], e[2]) for e in ended] == [(unknown, EndReason.TIME_LIMIT)]
    assert collector.swaps == [10]
    assert len(collector.frames_of_source(1)) == 20  # 0.6 s -> 1.0 s


async def test_a_seek_past_the_cap_ends_the_track(
    make_player: MakePlayer, catalog: Catalog, collector: VoiceCollector, listener: RecordingListener
) -> None:
    player = make_player(max_unknown_duration=1.0)
    unknown = unmeasured_clock(catalog)
    collector.hold_at(10)
    player.enqueue([unknown, catalog.tones[2]])
    assert await collector.wait_held()
    await player.seek(2.0)
    collector.release()
    ended = await listener.wait_ended(2)
    assert [(e[1], e[2]) for e in ended] == [
        (unknown, EndReason.TIME_LIMIT),
        (catalog.tones[2], EndReason.FINISHED),
    ]
    assert isinstance(ended[0][3], PlayLimitReached) and ended[0][3].limit == 1.0
    assert len(collector.frames_of_source(0)) == 10  # nothing of the clock after the seek
    assert pitch_of_source(collector, 1) == pytest.approx(770, abs=3)


async def test_a_start_from_a_saved_position_counts_on_to_the_cap(
    make_player: MakePlayer, catalog: Catalog, collector: VoiceCollector, listener: RecordingListener
) -> None:
    player = make_player(max_live_duration=0.5)
    player.voice = None  # queued while not connected, as a restore does
    live = live_clock(catalog)
    player.enqueue([live])
    player.voice = collector
    assert player.start(position=0.3)
    ended = await listener.wait_ended(1)
    assert [(e[1], e[2]) for e in ended] == [(live, EndReason.TIME_LIMIT)]
    assert len(collector.frames_of_source(0)) == 10  # 0.3 s -> 0.5 s


async def test_a_measured_length_lifts_the_unknown_length_cap(
    make_player: MakePlayer, catalog: Catalog, collector: VoiceCollector, listener: RecordingListener
) -> None:
    player = make_player(max_unknown_duration=0.5)
    unmeasured = catalog.resolver.add(
        make_track("measured-later", None), Stream(catalog.server.url("long440.mp3"), {})
    )
    collector.hold_at(10)
    player.enqueue([unmeasured])
    assert await collector.wait_held()
    measured = dataclasses.replace(unmeasured, duration=3.0)
    assert player.update_track(unmeasured, measured)
    collector.release()
    ended = await listener.wait_ended(1)
    assert [(e[1], e[2]) for e in ended] == [(measured, EndReason.FINISHED)]
    assert len(collector.frames_of_source(0)) == pytest.approx(150, abs=2)
