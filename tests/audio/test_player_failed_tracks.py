"""Tracks that fail under a GuildPlayer (a 404, a failed lookup, no ffmpeg) while the queue goes on."""

from __future__ import annotations

import asyncio

import discord
import pytest

from audio.errors import ExtractionError, PlayerError
from audio.options import PlayerOptions
from audio.player import EndReason, GuildPlayer, LoopMode
from tests.audio.heard_audio import pitch_of_source
from tests.audio.player_doubles import Catalog, RecordingListener, bus, make_track
from tests.audio.voice_collector import VoiceCollector

pytest_plugins = ("tests.audio.player_fixtures",)

pytestmark = pytest.mark.timeout(60)


async def test_a_404_stream_fails_and_the_queue_goes_on(
    player: GuildPlayer, catalog: Catalog, collector: VoiceCollector, listener: RecordingListener
) -> None:
    missing = catalog.track("missing", "missing.mp3", 1.0)
    player.enqueue([catalog.tones[0], missing, catalog.tones[2]])
    ended = await listener.wait_ended(3)
    assert [(e[1], e[2]) for e in ended] == [
        (catalog.tones[0], EndReason.FINISHED),
        (missing, EndReason.FAILED),
        (catalog.tones[2], EndReason.FINISHED),
    ]
    error = ended[1][3]
    assert isinstance(error, PlayerError) and isinstance(error.__cause__, discord.FFmpegProcessError)
    assert "127.0.0.1" not in error.user_message
    heard = [pitch_of_source(collector, i) for i in range(collector.plays) if collector.frames_of(i)]
    assert heard == pytest.approx([330, 770], abs=3)


async def test_an_extraction_failure_fails_the_track_and_the_queue_goes_on(
    player: GuildPlayer,
    catalog: Catalog,
    collector: VoiceCollector,
    listener: RecordingListener,
) -> None:
    gone = catalog.resolver.add(make_track("gone", 5.0), ExtractionError("That video is unavailable."))
    player.enqueue([gone, catalog.tones[1]])
    ended = await listener.wait_ended(2)
    assert [(e[1], e[2]) for e in ended] == [(gone, EndReason.FAILED), (catalog.tones[1], EndReason.FINISHED)]
    assert isinstance(ended[0][3], ExtractionError)
    assert collector.plays == 1  # the failed one never reached the voice client
    assert pitch_of_source(collector, 0) == pytest.approx(550, abs=3)


async def test_failed_tracks_are_not_looped(
    player: GuildPlayer, catalog: Catalog, listener: RecordingListener
) -> None:
    gone = catalog.resolver.add(make_track("gone", 5.0), ExtractionError("That video is unavailable."))
    player.set_loop(LoopMode.TRACK)
    player.enqueue([gone])
    ended = await listener.wait_ended(1)
    assert ended[0][2] is EndReason.FAILED
    await listener.wait_for(lambda r: r.events[-1] == ("state",))
    assert player.current is None and len(listener.of("started")) == 0


async def test_a_missing_ffmpeg_fails_tracks_without_crashing(
    catalog: Catalog, collector: VoiceCollector, listener: RecordingListener
) -> None:
    gp = GuildPlayer(
        7,
        extractor=catalog.resolver,
        loop=asyncio.get_running_loop(),
        events=bus(listener),
        options=PlayerOptions(ffmpeg="/nonexistent/ffmpeg"),
    )
    gp.voice = collector
    try:
        gp.enqueue(list(catalog.tones[:2]))
        ended = await listener.wait_ended(2)
        assert [e[2] for e in ended] == [EndReason.FAILED, EndReason.FAILED]
        assert all(isinstance(e[3], PlayerError) for e in ended)
        assert collector.plays == 0 and gp.current is None
    finally:
        await gp.close()
