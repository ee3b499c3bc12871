"""GuildPlayer's life around its voice: listeners, voice arriving late, detach, close, checkpoints."""

from __future__ import annotations

import asyncio

import pytest

from audio.errors import PlayerError
from audio.events import PlayerEvent, TrackEnded, TrackStarted
from audio.options import PlayerOptions
from audio.player import EndReason, GuildPlayer, LoopMode
from tests.audio.ffmpeg_processes import wait_no_ffmpeg
from tests.audio.heard_audio import pitch_of_source, titles
from tests.audio.player_doubles import Catalog, RecordingListener, bus
from tests.audio.voice_collector import VoiceCollector

pytest_plugins = ("tests.audio.player_fixtures",)

pytestmark = pytest.mark.timeout(60)


async def broken_on_start(event: PlayerEvent) -> None:
    if isinstance(event, TrackStarted):
        raise RuntimeError("listener bug")


def broken_on_end(event: PlayerEvent) -> None:
    if isinstance(event, TrackEnded):
        raise RuntimeError("sync listener bug")


class StartsOnly:
    """Looks at one kind of event, synchronously: subscribers may be sync or async."""

    def __init__(self) -> None:
        self.started: list[str] = []

    def __call__(self, event: PlayerEvent) -> None:
        if isinstance(event, TrackStarted):
            self.started.append(event.track.title)


async def test_broken_listeners_never_stop_playback(
    player: GuildPlayer, catalog: Catalog, listener: RecordingListener, caplog: pytest.LogCaptureFixture
) -> None:
    starts = StartsOnly()
    player.events.unsubscribe(listener)
    for extra in (broken_on_start, broken_on_end, starts, listener):
        player.events.subscribe(extra)
    player.enqueue(list(catalog.tones[:2]))
    await listener.wait_ended(2)
    assert starts.started == ["tone330", "tone550"]
    assert "listener bug" in caplog.text


async def test_listeners_hear_state_changes(
    player: GuildPlayer, catalog: Catalog, listener: RecordingListener
) -> None:
    player.set_loop(LoopMode.QUEUE)
    await listener.wait_for(lambda r: len(r.events) == 1)
    player.queue.add(catalog.tones[0])  # player not connected to any command: the queue itself notifies
    await listener.wait_for(lambda r: len(r.events) >= 2)
    assert listener.events == [("state",), ("state",)]
    assert player.loop_mode is LoopMode.QUEUE


async def test_without_voice_tracks_wait_until_start(
    catalog: Catalog, collector: VoiceCollector, listener: RecordingListener
) -> None:
    gp = GuildPlayer(5, extractor=catalog.resolver, loop=asyncio.get_running_loop(), events=bus(listener))
    try:
        assert gp.enqueue([catalog.tones[0]]) == 1
        assert gp.current is None and len(gp.queue) == 1
        gp.voice = collector
        assert gp.start()
        await listener.wait_ended(1)
        assert pitch_of_source(collector, 0) == pytest.approx(330, abs=3)
    finally:
        await gp.close()


async def test_close_kills_everything_and_refuses_more(
    player: GuildPlayer, catalog: Catalog, collector: VoiceCollector, listener: RecordingListener
) -> None:
    collector.hold_at(10)
    player.enqueue([catalog.long, *catalog.tones])
    assert await collector.wait_held()
    await listener.wait_started(1)
    events_before = list(listener.events)
    await player.close()
    collector.release()
    assert player.closed
    assert await wait_no_ffmpeg() == []
    with pytest.raises(PlayerError):
        player.enqueue([catalog.tones[0]])
    assert all(t.done() for t in player._tasks)
    # Quiet: nothing that a state store would read as "the user cleared the queue".
    assert await collector.wait_for(lambda c: c.after_errors == [None])
    assert listener.events == events_before
    assert player.current is catalog.long and list(player.queue) == list(catalog.tones)
    assert player.position == pytest.approx(0.2)
    assert not player.start()


async def test_detach_stops_but_keeps_the_queue_and_start_resumes(
    player: GuildPlayer, catalog: Catalog, collector: VoiceCollector, listener: RecordingListener
) -> None:
    collector.hold_at(10)
    player.enqueue([catalog.long, catalog.tones[0]])
    assert await collector.wait_held()
    await player.detach()
    collector.release()
    ended = await listener.wait_ended(1)
    assert [(e[1], e[2]) for e in ended] == [(catalog.long, EndReason.STOPPED)]
    assert player.voice is None and player.current is None
    assert list(player.queue) == [catalog.long, catalog.tones[0]]
    assert await wait_no_ffmpeg() == []
    assert not player.start()  # no voice: nothing starts
    player.voice = collector
    assert player.start()
    started = await listener.wait_started(2)
    assert titles(started) == ["long440", "long440"]


async def test_a_disconnected_voice_keeps_tracks_queued(
    player: GuildPlayer, catalog: Catalog, collector: VoiceCollector
) -> None:
    collector.disconnect()
    assert player.enqueue([catalog.tones[0]]) == 1
    assert player.current is None and collector.plays == 0


async def test_position_checkpoints_while_playing(
    catalog: Catalog, collector: VoiceCollector, listener: RecordingListener
) -> None:
    gp = GuildPlayer(
        8,
        extractor=catalog.resolver,
        loop=asyncio.get_running_loop(),
        events=bus(listener),
        options=PlayerOptions(checkpoint_interval=0.05),
    )
    gp.voice = collector
    try:
        collector.hold_at(10)
        gp.enqueue([catalog.clock])
        assert await collector.wait_held()
        await listener.wait_started(1)
        baseline = len(listener.of("state"))
        await listener.wait_for(lambda r: len(r.of("state")) >= baseline + 3)  # no command issued meanwhile
        collector.release()
    finally:
        await gp.close()


async def test_the_voice_encoder_runs_without_fec(
    player: GuildPlayer, catalog: Catalog, collector: VoiceCollector, listener: RecordingListener
) -> None:
    player.enqueue([catalog.tones[0]])
    await listener.wait_ended(1)
    assert collector.fec == [False]
