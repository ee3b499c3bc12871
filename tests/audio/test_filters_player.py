"""GuildPlayer.set_filters with real ffmpeg, played in real time by discord's own AudioPlayer.

The clock track's pitch says which second of it is heard, so a change of effects mid-track can be
checked for what a listener would notice: a gap, a second heard twice, or one left out.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from audio.filters import NO_FILTERS, Filters, Style
from audio.player import EndReason, GuildPlayer
from tests.audio.ffmpeg_processes import wait_no_ffmpeg
from tests.audio.pcm_analysis import dominant_frequency
from tests.audio.player_doubles import TONES, Catalog, RecordingListener, bus
from tests.audio.voice_collector import VoiceCollector
from tests.media import CLOCK_BASE_HZ, CLOCK_STEP_HZ

pytest_plugins = ("tests.audio.player_fixtures",)

pytestmark = pytest.mark.timeout(60)


@pytest_asyncio.fixture
async def realtime() -> AsyncIterator[VoiceCollector]:
    voice = VoiceCollector(asyncio.get_running_loop(), pace=0.02)
    yield voice
    await voice.close()


@pytest_asyncio.fixture
async def player(
    catalog: Catalog, realtime: VoiceCollector
) -> AsyncIterator[tuple[GuildPlayer, RecordingListener]]:
    listener = RecordingListener()
    gp = GuildPlayer(77, extractor=catalog.resolver, loop=asyncio.get_running_loop(), events=bus(listener))
    gp.voice = realtime
    yield gp, listener
    await gp.close()
    await realtime.close()
    assert await wait_no_ffmpeg() == [], "ffmpeg processes leaked"


def clock_second(pitch: float, ratio: float = 1.0) -> float:
    """Which second of the clock track a pitch belongs to (fractional when it is between two)."""
    return (pitch / ratio - CLOCK_BASE_HZ) / CLOCK_STEP_HZ


async def test_nightcore_mid_track_takes_over_without_a_gap_or_a_repeat(
    player: tuple[GuildPlayer, RecordingListener], catalog: Catalog, realtime: VoiceCollector
) -> None:
    gp, listener = player
    gp.enqueue([catalog.clock])
    assert await realtime.wait_for_frames(120)  # 2.4 s in
    assert await gp.set_filters(Filters(style=Style.NIGHTCORE))
    assert gp.filters == Filters(style=Style.NIGHTCORE)
    assert await realtime.wait_for(lambda c: bool(c.swaps), timeout=5)
    swap = realtime.swaps[0]
    await listener.wait_ended(1, timeout=20)
    frames = realtime.frames_of(0)
    assert [e[2] for e in listener.of("ended")] == [EndReason.FINISHED]
    assert realtime.plays == 1  # one voice play: the change happened inside it
    steps = [
        b.at - a.at for a, b in zip(frames[swap - 5 : swap + 5], frames[swap - 4 : swap + 6], strict=True)
    ]
    assert max(steps) < 0.045, steps  # paced at 20 ms: a missing frame would show as 40 ms or more
    # Track time goes on where it was: the frames before the swap are second k, the ones after it
    # are the same second a quarter higher or the next one, never an earlier or a later one.
    before = clock_second(dominant_frequency(b"".join(f.pcm for f in frames[swap - 10 : swap])))
    heard_at = round(before)
    after_pitch = dominant_frequency(b"".join(f.pcm for f in frames[swap : swap + 10]))
    assert round(clock_second(after_pitch, 1.25)) in (heard_at, heard_at + 1)
    position_at_swap = swap * 0.02
    expected_frames = swap + (catalog.clock.duration - position_at_swap) / 1.25 / 0.02  # type: ignore[operator]
    assert len(frames) == pytest.approx(expected_frames, abs=3)


async def test_speed_moves_the_position_in_track_time(
    player: tuple[GuildPlayer, RecordingListener], catalog: Catalog, realtime: VoiceCollector
) -> None:
    gp, _ = player
    gp.enqueue([catalog.clock])
    assert await realtime.wait_for_frames(25)
    await gp.set_filters(Filters(speed=2.0))
    assert await realtime.wait_for(lambda c: bool(c.swaps), timeout=5)
    swapped_at = realtime.swaps[0]
    assert await realtime.wait_for_frames(swapped_at + 50)  # one second of output later
    start = gp.position
    assert start is not None
    assert await realtime.wait_for_frames(realtime.frame_count() + 50)
    later = gp.position
    assert later is not None and later - start == pytest.approx(2.0, abs=0.1)


async def test_the_next_tracks_get_the_filters_and_the_gapless_hand_over_stays(
    player: tuple[GuildPlayer, RecordingListener], catalog: Catalog, realtime: VoiceCollector
) -> None:
    gp, listener = player
    gp.enqueue(list(catalog.tones))  # 1 s each: the next one's ffmpeg is started at once
    assert await realtime.wait_for_frames(10)
    # Too close to the end for the first track; the pre-started second one is replaced.
    assert not await gp.set_filters(Filters(style=Style.NIGHTCORE))
    await listener.wait_ended(3, timeout=20)
    assert realtime.plays == 1
    heard = [
        dominant_frequency(b"".join(f.pcm for f in realtime.frames_of_source(i)[3:-3])) for i in range(3)
    ]
    assert heard == pytest.approx([TONES[0], TONES[1] * 1.25, TONES[2] * 1.25], abs=4)


async def test_clearing_goes_back_to_plain_and_the_same_filters_twice_change_nothing(
    player: tuple[GuildPlayer, RecordingListener], catalog: Catalog, realtime: VoiceCollector
) -> None:
    gp, _ = player
    gp.enqueue([catalog.clock])
    assert await realtime.wait_for_frames(10)
    assert await gp.set_filters(Filters(pitch=12))
    assert await realtime.wait_for(lambda c: len(c.swaps) == 1, timeout=5)
    assert await gp.set_filters(Filters(pitch=12))  # nothing new to cue
    assert await gp.set_filters(NO_FILTERS)
    assert await realtime.wait_for(lambda c: len(c.swaps) == 2, timeout=5)
    second = realtime.swaps[1]
    assert await realtime.wait_for_frames(second + 10)
    pitch = dominant_frequency(realtime.pcm(second + 2, second + 10))
    assert clock_second(pitch) == pytest.approx(round(clock_second(pitch)), abs=0.1)  # a plain clock second
