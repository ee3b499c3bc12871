"""enqueue_then_measure without Discord: a real GuildPlayer playing into a VoiceCollector, the real
Extractor (yt-dlp, ffprobe) on loopback media; only the fault cases hand in a failing measure."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from audio.extractor import Extractor
from audio.player import GuildPlayer
from audio.track import Provider, Track
from audio.url_policy import UrlPolicy
from bot.admission import Limits, too_long_refusal
from bot.late_duration import enqueue_then_measure
from tests.audio.voice_collector import VoiceCollector
from tests.media import MediaServer, generate_tone, media_server

pytestmark = pytest.mark.timeout(60)

CAP = Limits(max_track_duration=2.0)


@pytest.fixture(scope="module")
def tones(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("late-duration-media")
    generate_tone(root / "long.mp3", 440, 3.0)  # over CAP
    generate_tone(root / "short.mp3", 660, 1.5)
    return root


@pytest.fixture
def media(tones: Path) -> Iterator[MediaServer]:
    with media_server(tones) as server:
        yield server


@pytest.fixture
async def extractor() -> AsyncIterator[Extractor]:
    made = Extractor(policy=UrlPolicy(allow_private_network=True), timeout=10.0)
    yield made
    made.close()


@pytest.fixture
async def voice() -> AsyncIterator[VoiceCollector]:
    collector = VoiceCollector(asyncio.get_running_loop(), pace=0.02)  # Discord's pace
    yield collector
    await collector.close()


@pytest.fixture
async def player(extractor: Extractor, voice: VoiceCollector) -> AsyncIterator[GuildPlayer]:
    made = GuildPlayer(1, extractor=extractor, loop=asyncio.get_running_loop())
    made.voice = voice
    yield made
    await made.close()


async def test_the_track_starts_unmeasured_and_the_measured_one_takes_its_place(
    player: GuildPlayer, extractor: Extractor, media: MediaServer, voice: VoiceCollector
) -> None:
    [track] = await extractor.resolve_all(media.url("short.mp3"))
    seen: list[Track | None] = []

    async def measure(t: Track) -> Track:
        seen.append(player.current)  # what the player had started when the measure began
        return await extractor.measure(t)

    done = await enqueue_then_measure(
        player, [track], needs_measuring=extractor.needs_measuring, measure=measure, limits=Limits()
    )
    assert seen == [track] and seen[0] is track  # started already, length unknown
    assert done.refusal is None and done.position == 0
    [measured] = done.tracks
    assert measured.duration == pytest.approx(1.5, abs=0.1)
    assert player.current is measured
    assert measured == dataclasses.replace(track, duration=measured.duration)


async def test_the_measure_waits_until_the_track_is_heard(
    player: GuildPlayer, extractor: Extractor, media: MediaServer, voice: VoiceCollector
) -> None:
    """ffprobe would compete with the ffmpeg opening the stream: it starts after the first frame."""
    [track] = await extractor.resolve_all(media.url("short.mp3"))
    positions: list[float | None] = []

    async def measure(t: Track) -> Track:
        positions.append(player.position)
        return await extractor.measure(t)

    await enqueue_then_measure(
        player, [track], needs_measuring=extractor.needs_measuring, measure=measure, limits=Limits()
    )
    [heard_at] = positions
    assert heard_at is not None and heard_at > 0


async def test_over_the_cap_while_playing_it_is_skipped_and_refused(
    player: GuildPlayer, extractor: Extractor, media: MediaServer, voice: VoiceCollector
) -> None:
    [long] = await extractor.resolve_all(media.url("long.mp3"))
    done = await enqueue_then_measure(
        player, [long], needs_measuring=extractor.needs_measuring, measure=extractor.measure, limits=CAP
    )
    assert done.tracks == ()
    assert done.refusal is not None and done.refusal.user_message == too_long_refusal(CAP).user_message
    assert voice.plays == 1 and player.current is None and len(player.queue) == 0


async def test_over_the_cap_while_queued_only_that_very_object_leaves_the_queue(
    player: GuildPlayer, extractor: Extractor, media: MediaServer, voice: VoiceCollector
) -> None:
    [short] = await extractor.resolve_all(media.url("short.mp3"))
    await enqueue_then_measure(
        player, [short], needs_measuring=extractor.needs_measuring, measure=extractor.measure, limits=CAP
    )
    playing = player.current
    # An equal entry of the same file, queued earlier, stays: identity decides what goes.
    twin = Track("long", media.url("long.mp3"), None, None, None, Provider.DIRECT)
    queued_twin = dataclasses.replace(twin)
    player.queue.add(queued_twin)
    done = await enqueue_then_measure(
        player, [twin], needs_measuring=extractor.needs_measuring, measure=extractor.measure, limits=CAP
    )
    assert done.refusal is not None and done.position == 2
    assert list(player.queue) == [queued_twin] and player.queue.peek() is queued_twin
    assert player.current is playing and voice.plays == 1


async def test_a_playlist_loses_only_its_over_cap_entries(
    player: GuildPlayer, extractor: Extractor, media: MediaServer
) -> None:
    short = Track("short", media.url("short.mp3"), None, None, None, Provider.DIRECT)
    long = Track("long", media.url("long.mp3"), None, None, None, Provider.DIRECT)
    done = await enqueue_then_measure(
        player,
        [short, long],
        needs_measuring=extractor.needs_measuring,
        measure=extractor.measure,
        limits=CAP,
    )
    assert done.refusal is None
    assert [t.title for t in done.tracks] == ["short"] and done.tracks[0].duration == pytest.approx(
        1.5, abs=0.1
    )
    assert player.current is done.tracks[0] and len(player.queue) == 0


async def test_a_failing_measure_keeps_the_track_playing_with_its_length_unknown(
    player: GuildPlayer, media: MediaServer, extractor: Extractor, caplog: pytest.LogCaptureFixture
) -> None:
    [track] = await extractor.resolve_all(media.url("short.mp3"))
    queued_after = Track("next", media.url("long.mp3"), 3.0, None, None, Provider.DIRECT)

    async def broken(t: Track) -> Track:
        raise RuntimeError("ffprobe exploded")

    with caplog.at_level(logging.WARNING, logger="bot.late_duration"):
        done = await enqueue_then_measure(
            player,
            [track, queued_after],
            needs_measuring=lambda t: t.duration is None,
            measure=broken,
            limits=Limits(max_track_duration=None),
        )
    assert done.refusal is None and done.tracks == (track, queued_after)
    assert player.current is track and list(player.queue) == [queued_after]
    assert "measuring 'short' failed" in caplog.text


async def test_tracks_that_need_no_measuring_are_not_measured(
    player: GuildPlayer, media: MediaServer
) -> None:
    known = Track("short", media.url("short.mp3"), 1.5, None, None, Provider.DIRECT)
    asked: list[Track] = []

    async def measure(t: Track) -> Track:
        asked.append(t)
        return t

    done = await enqueue_then_measure(
        player, [known], needs_measuring=lambda t: t.duration is None, measure=measure, limits=CAP
    )
    assert asked == [] and done.tracks == (known,) and player.current is known
