"""GuildPlayer with real TimedAudio/ffmpeg over loopback HTTP, played by discord's own AudioPlayer.

What was played is judged from the collected PCM: each test track has its own pitch, and the clock
track's pitch tells which second of it we hear. Waiting is always on an event or a condition with a
timeout; ``VoiceCollector.hold_at`` freezes the player thread at an exact frame so a command lands
at a known point of the audio.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import discord
import pytest
import pytest_asyncio

from audio.deck import Deck
from audio.errors import ExtractionError, PlayerError
from audio.events import PlayerEvent, TrackEnded, TrackStarted
from audio.options import PlayerOptions
from audio.player import EndReason, GuildPlayer, LoopMode
from audio.timed_audio import TimedAudio
from audio.track import Stream
from tests.audio.ffmpeg_processes import ffmpeg_children, wait_for_ffmpeg, wait_no_ffmpeg
from tests.audio.pcm_analysis import dominant_frequency, rms
from tests.audio.player_doubles import TONES, Catalog, RecordingListener, bus, make_track
from tests.audio.voice_collector import VoiceCollector
from tests.media import clock_frequency

pytest_plugins = ("tests.audio.player_fixtures",)

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def listener() -> RecordingListener:
    return RecordingListener()


@pytest_asyncio.fixture
async def player(
    catalog: Catalog,
    collector: VoiceCollector,
    listener: RecordingListener,
) -> AsyncIterator[GuildPlayer]:
    gp = GuildPlayer(1234, extractor=catalog.resolver, loop=asyncio.get_running_loop(), events=bus(listener))
    gp.voice = collector
    yield gp
    await gp.close()
    await collector.close()
    assert await wait_no_ffmpeg() == [], "ffmpeg processes leaked"


def pitch_of_source(voice: VoiceCollector, index: int) -> float:
    """The pitch heard from the ``index``-th ffmpeg source (a track, or the part of one after a seek)."""
    frames = voice.frames_of_source(index)
    assert frames, f"source #{index} produced no audio"
    return dominant_frequency(b"".join(f.pcm for f in frames[2:-2] or frames))


def pitch_of(voice: VoiceCollector, start: int, count: int = 25) -> float:
    return dominant_frequency(voice.pcm(start, start + count))


def first_frame_with_pitch(voice: VoiceCollector, start: int, freq: float, limit: int = 200) -> int:
    """Index (from ``start``) of the first of 3 consecutive 20 ms frames whose pitch is ``freq``.

    Three in a row, because a frame holding a decoder start-up transient can peak anywhere.
    """
    pitches = [
        dominant_frequency(voice.pcm(i, i + 1)) for i in range(start, min(start + limit, voice.frame_count()))
    ]
    for offset in range(len(pitches) - 2):
        if pitches[offset] == pitches[offset + 1] == pitches[offset + 2] == freq:
            return offset
    raise AssertionError(f"{freq} Hz never heard: {pitches}")


def titles(events: list[tuple[Any, ...]]) -> list[str]:
    return [e[1].title for e in events]


def current_source(voice: VoiceCollector) -> TimedAudio:
    wrapper = voice.source
    assert isinstance(wrapper, discord.PCMVolumeTransformer)
    assert isinstance(wrapper.original, Deck)
    return wrapper.original.source


async def test_plays_the_queue_in_order(
    player: GuildPlayer, catalog: Catalog, collector: VoiceCollector, listener: RecordingListener
) -> None:
    assert player.enqueue(list(catalog.tones)) == 0  # the first one started at once
    ended = await listener.wait_ended(3)
    assert [(e[1], e[2], e[3]) for e in ended] == [(t, EndReason.FINISHED, None) for t in catalog.tones]
    assert titles(listener.of("started")) == ["tone330", "tone550", "tone770"]
    assert [pitch_of_source(collector, i) for i in range(3)] == pytest.approx(TONES, abs=3)
    for i in range(3):
        assert len(collector.frames_of_source(i)) == pytest.approx(50, abs=2)  # 1 s each, nothing cut
    # One AudioPlayer from the first frame to the last: each track flowed into the next.
    assert collector.plays == 1 and collector.after_errors == [None]
    await listener.wait_for(lambda r: r.events[-1] == ("state",))
    assert player.current is None and player.position is None and len(player.queue) == 0


async def test_enqueue_while_playing_returns_queue_positions(
    player: GuildPlayer, catalog: Catalog, collector: VoiceCollector
) -> None:
    collector.hold_at(5)
    assert player.enqueue([catalog.long]) == 0
    assert await collector.wait_held()
    assert player.enqueue(list(catalog.tones[:2])) == 1
    assert player.enqueue([catalog.tones[2]], next_up=True) == 1
    assert list(player.queue) == [catalog.tones[2], catalog.tones[0], catalog.tones[1]]
    collector.release()


async def test_loop_track_repeats_until_turned_off(
    player: GuildPlayer, catalog: Catalog, collector: VoiceCollector, listener: RecordingListener
) -> None:
    player.set_loop(LoopMode.TRACK)
    player.enqueue(list(catalog.tones[:2]))
    await listener.wait_started(3)
    player.set_loop(LoopMode.OFF)
    await listener.wait_for(lambda r: "tone550" in titles(r.of("started")))
    await listener.wait_ended(len(listener.of("started")))
    started = titles(listener.of("started"))
    assert started[-1] == "tone550" and set(started[:-1]) == {"tone330"} and len(started) >= 4
    assert [pitch_of_source(collector, i) for i in range(len(started))] == pytest.approx(
        [330] * (len(started) - 1) + [550], abs=3
    )


async def test_loop_queue_cycles(
    player: GuildPlayer, catalog: Catalog, collector: VoiceCollector, listener: RecordingListener
) -> None:
    player.set_loop(LoopMode.QUEUE)
    player.enqueue(list(catalog.tones[:2]))
    await listener.wait_started(5)
    assert titles(listener.of("started"))[:5] == ["tone330", "tone550", "tone330", "tone550", "tone330"]
    assert [pitch_of_source(collector, i) for i in range(4)] == pytest.approx([330, 550, 330, 550], abs=3)
    await player.stop()
    assert len(player.queue) == 0


async def test_skip_cuts_the_track_and_plays_the_next(
    player: GuildPlayer, catalog: Catalog, collector: VoiceCollector, listener: RecordingListener
) -> None:
    collector.hold_at(10)
    player.enqueue([catalog.long, catalog.tones[1]])
    assert await collector.wait_held()
    assert player.skip() is catalog.long
    collector.release()
    ended = await listener.wait_ended(2)
    assert [(e[1], e[2]) for e in ended] == [
        (catalog.long, EndReason.SKIPPED),
        (catalog.tones[1], EndReason.FINISHED),
    ]
    assert len(collector.frames_of(0)) == 10  # cut where it stood, not played to its 3 s end
    assert pitch_of_source(collector, 0) == pytest.approx(440, abs=3)
    assert pitch_of_source(collector, 1) == pytest.approx(550, abs=3)
    assert player.skip() is None  # nothing left


async def test_stop_clears_everything_and_kills_ffmpeg(
    player: GuildPlayer, catalog: Catalog, collector: VoiceCollector, listener: RecordingListener
) -> None:
    collector.hold_at(10)
    player.enqueue([catalog.long, *catalog.tones])
    assert await collector.wait_held()
    playing_pid = current_source(collector).pid
    await player.stop()
    collector.release()
    ended = await listener.wait_ended(1)
    assert [(e[1], e[2]) for e in ended] == [(catalog.long, EndReason.STOPPED)]
    assert player.current is None and len(player.queue) == 0 and player.position is None
    assert await wait_no_ffmpeg() == []
    assert playing_pid not in {p.pid for p in ffmpeg_children()}
    assert collector.plays == 1 and not collector.is_playing()


async def test_volume_changes_live_without_a_new_ffmpeg(
    player: GuildPlayer, catalog: Catalog, collector: VoiceCollector, listener: RecordingListener
) -> None:
    collector.hold_at(20)
    player.enqueue([catalog.long])
    assert await collector.wait_held()
    source = current_source(collector)
    pid = source.pid
    player.set_volume(50)
    assert player.volume == 50
    collector.release()
    assert await collector.wait_for_frames(80)
    before = rms(collector.pcm(5, 20))
    after = rms(collector.pcm(25, 80))
    assert after / before == pytest.approx(0.5, abs=0.03)
    assert collector.plays == 1
    assert current_source(collector) is source and source.pid == pid
    assert {p.pid for p in ffmpeg_children()} == {pid}
    with pytest.raises(PlayerError):
        player.set_volume(201)
    with pytest.raises(PlayerError):
        player.set_volume(-1)
    await listener.wait_for(lambda r: ("state",) in r.events)


async def test_seek_lands_on_the_second_asked_for(
    player: GuildPlayer, catalog: Catalog, collector: VoiceCollector, listener: RecordingListener
) -> None:
    collector.hold_at(10)
    player.enqueue([catalog.clock])
    assert await collector.wait_held()
    old = current_source(collector)
    assert player.position == pytest.approx(0.2)
    for nonsense in (float("nan"), float("inf")):
        with pytest.raises(PlayerError, match="not a time"):
            await player.seek(nonsense)
    await player.seek(6.3)
    assert player.position == pytest.approx(6.3)
    collector.release()
    assert await collector.wait_for_frames(10 + 60)
    assert collector.swaps == [10]
    assert pitch_of(collector, 12, 25) == pytest.approx(clock_frequency(6), abs=5)
    # second 7 starts 0.7 s after 6.3 s
    assert abs(first_frame_with_pitch(collector, 10, clock_frequency(7)) * 0.02 - 0.7) <= 0.1
    assert collector.plays == 1 and listener.of("ended") == []  # no advance, no new play
    assert old.closed and current_source(collector) is not old


async def test_forward_and_rewind_are_relative_to_the_position(
    player: GuildPlayer, catalog: Catalog, collector: VoiceCollector
) -> None:
    collector.hold_at(100)
    player.enqueue([catalog.clock])
    assert await collector.wait_held()
    assert player.position == pytest.approx(2.0)
    await player.forward(3)
    assert player.position == pytest.approx(5.0)
    collector.release(hold_next_at=125)
    assert await collector.wait_held()
    assert player.position == pytest.approx(5.5)
    await player.rewind(4)
    assert player.position == pytest.approx(1.5)
    collector.release(hold_next_at=125 + 40)
    assert await collector.wait_held()
    assert collector.swaps == [100, 125]
    assert pitch_of(collector, 102, 20) == pytest.approx(clock_frequency(5), abs=5)
    assert pitch_of(collector, 126, 20) == pytest.approx(clock_frequency(1), abs=5)
    assert abs(first_frame_with_pitch(collector, 125, clock_frequency(2)) * 0.02 - 0.5) <= 0.1
    await player.rewind(600)  # before the start clamps to 0
    assert player.position == pytest.approx(0.0)
    collector.release()


async def test_seek_past_the_end_moves_to_the_next_track(
    player: GuildPlayer, catalog: Catalog, collector: VoiceCollector, listener: RecordingListener
) -> None:
    collector.hold_at(10)
    player.enqueue([catalog.clock, catalog.tones[0]])
    assert await collector.wait_held()
    await player.seek(11.0)
    collector.release()
    started = await listener.wait_started(2)
    assert titles(started) == ["clock", "tone330"]
    assert listener.of("ended")[0][1:3] == (catalog.clock, EndReason.SKIPPED)
    await listener.wait_ended(2)
    assert pitch_of_source(collector, 1) == pytest.approx(330, abs=3)


async def test_seek_while_paused_stays_paused_and_silent(
    player: GuildPlayer, catalog: Catalog, collector: VoiceCollector
) -> None:
    collector.hold_at(10)
    player.enqueue([catalog.clock])
    assert await collector.wait_held()
    player.pause()
    collector.release()
    assert player.is_paused
    assert await collector.wait_for(
        lambda c: c.silence_packets >= 5, timeout=5
    )  # discord's pause: 5 silences
    first = current_source(collector)
    await player.seek(4.0)
    await player.seek(6.0)  # twice while paused: the middle one never plays
    assert collector.is_paused() and player.is_paused
    assert player.position == pytest.approx(6.0)
    assert collector.frame_count() == 10 and collector.swaps == []  # nothing heard while paused
    assert first.closed  # swapped out under the paused voice client and killed at once
    collector.hold_at(10 + 30)
    player.resume()
    assert await collector.wait_held()
    assert not player.is_paused
    assert collector.swaps == [10]
    assert pitch_of(collector, 12, 25) == pytest.approx(clock_frequency(6), abs=5)
    assert await wait_for_ffmpeg(lambda pids: len(pids) == 1) == {current_source(collector).pid}
    assert first.closed
    collector.release()


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


async def test_next_stream_is_prefetched_and_its_ffmpeg_prestarted(
    player: GuildPlayer,
    catalog: Catalog,
    collector: VoiceCollector,
    listener: RecordingListener,
) -> None:
    first, second = catalog.tones[0], catalog.tones[1]
    collector.hold_at(10)
    player.enqueue([first, second])
    assert await collector.wait_held()
    # 1 s tracks are always within the pre-start lead, so the next ffmpeg starts right away.
    await listener.wait_for(lambda r: catalog.resolver.calls.count(second) == 1)
    before_end = await wait_for_ffmpeg(lambda pids: len(pids) >= 2)
    assert len(before_end) == 2
    collector.release()
    await listener.wait_started(2)
    assert current_source(collector).pid in before_end - {None}
    assert catalog.resolver.calls.count(second) == 1  # not resolved again at its turn


async def test_a_stale_prefetched_stream_is_fetched_again(
    player: GuildPlayer, catalog: Catalog, listener: RecordingListener
) -> None:
    import time

    expiring = make_track("expiring", 1.0)
    catalog.resolver.add(expiring, Stream(catalog.server.url("tone550.mp3"), {}, expires_at=time.time() + 5))
    player.enqueue([catalog.tones[0], expiring])
    await listener.wait_ended(2)
    assert catalog.resolver.calls.count(expiring) >= 2  # 5 s from expiry is inside the safety margin


async def test_assigning_the_buffer_replaces_the_current_track(
    player: GuildPlayer, catalog: Catalog, collector: VoiceCollector, listener: RecordingListener
) -> None:
    collector.hold_at(10)
    player.enqueue([catalog.long, catalog.tones[2]])
    assert await collector.wait_held()
    player._play(catalog.tones[0])  # the observer entry point: a track placed in the buffer starts
    collector.release()
    await listener.wait_ended(3)
    assert [(e[1], e[2]) for e in listener.of("ended")] == [
        (catalog.long, EndReason.REPLACED),
        (catalog.tones[0], EndReason.FINISHED),
        (catalog.tones[2], EndReason.FINISHED),
    ]
    assert not EndReason.REPLACED.may_start_next and not EndReason.STOPPED.may_start_next
    assert all(r.may_start_next for r in (EndReason.FINISHED, EndReason.SKIPPED, EndReason.FAILED))
    assert [pitch_of_source(collector, i) for i in range(1, 3)] == pytest.approx([330, 770], abs=3)


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


async def test_commands_when_nothing_plays(player: GuildPlayer) -> None:
    for command in (player.pause, player.resume):
        with pytest.raises(PlayerError, match="Nothing is playing"):
            command()
    for coro in (player.seek(3), player.rewind(3), player.forward(3)):
        with pytest.raises(PlayerError, match="Nothing is playing"):
            await coro
    assert player.skip() is None
    await player.stop()  # harmless


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


async def test_start_at_a_position_restores_a_saved_track(
    player: GuildPlayer, catalog: Catalog, collector: VoiceCollector, listener: RecordingListener
) -> None:
    player.queue.extend([catalog.clock, catalog.tones[0]])
    assert player.start(position=7.2)
    assert await collector.wait_for_frames(20)
    assert player.position is not None and player.position >= 7.2
    assert pitch_of(collector, 2, 15) == pytest.approx(clock_frequency(7), abs=5)


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


async def test_the_next_track_follows_with_almost_no_silence(
    catalog: Catalog, listener: RecordingListener
) -> None:
    # Real-time pacing, as on Discord: frames leave every 20 ms.
    voice = VoiceCollector(asyncio.get_running_loop(), pace=0.02)
    gp = GuildPlayer(9, extractor=catalog.resolver, loop=asyncio.get_running_loop(), events=bus(listener))
    gp.voice = voice
    try:
        gp.enqueue(list(catalog.tones[:2]))
        await listener.wait_ended(2)
        gap = voice.frames_of_source(1)[0].at - voice.frames_of_source(0)[-1].at
        # The same AudioPlayer went on with the pre-started ffmpeg: one frame period, not a restart.
        assert voice.plays == 1 and voice.swaps == [len(voice.frames_of_source(0))]
        assert gap < 0.1, f"{gap * 1000:.0f} ms between the last and the first frame"
        assert pitch_of_source(voice, 0) == pytest.approx(330, abs=3)
        assert pitch_of_source(voice, 1) == pytest.approx(550, abs=3)
    finally:
        await gp.close()
        await voice.close()


async def test_seeking_back_from_the_end_drops_the_prestarted_ffmpeg(
    catalog: Catalog, collector: VoiceCollector, listener: RecordingListener
) -> None:
    # A 9.5 s lead on the 10 s clock: the pre-start timer fires after 0.5 s instead of minutes.
    gp = GuildPlayer(
        10,
        extractor=catalog.resolver,
        loop=asyncio.get_running_loop(),
        events=bus(listener),
        options=PlayerOptions(prestart_lead=9.5),
    )
    gp.voice = collector
    try:
        collector.hold_at(460)  # 9.2 s in: inside the lead
        gp.enqueue([catalog.clock, catalog.tones[0]])
        assert await collector.wait_held()
        prestarted = await wait_for_ffmpeg(lambda pids: len(pids) >= 2) - {current_source(collector).pid}
        assert len(prestarted) == 1
        await gp.seek(0.0)  # 10 s left: far outside the lead again
        assert not prestarted & await wait_for_ffmpeg(lambda pids: not prestarted & pids)
        collector.release()
        started = await listener.wait_started(2)
        assert titles(started) == ["clock", "tone330"]
        await listener.wait_ended(2)
        seeked = collector.frames_of_source(1)[2:27]  # the clock again from 0 s
        assert dominant_frequency(b"".join(f.pcm for f in seeked)) == pytest.approx(clock_frequency(0), abs=5)
        assert pitch_of_source(collector, 2) == pytest.approx(330, abs=3)
    finally:
        await gp.close()


async def test_the_voice_encoder_runs_without_fec(
    player: GuildPlayer, catalog: Catalog, collector: VoiceCollector, listener: RecordingListener
) -> None:
    player.enqueue([catalog.tones[0]])
    await listener.wait_ended(1)
    assert collector.fec == [False]


async def test_a_queue_edit_replaces_the_armed_next_track(
    player: GuildPlayer, catalog: Catalog, collector: VoiceCollector, listener: RecordingListener
) -> None:
    # The 3 s track is inside the 3 s pre-start lead from its first frame: tone330 gets armed at once.
    collector.hold_at(50)
    player.enqueue([catalog.long, catalog.tones[0], catalog.tones[1]])
    assert await collector.wait_held()
    armed = await wait_for_ffmpeg(lambda pids: len(pids) == 2) - {current_source(collector).pid}
    assert player.queue.remove(1) is catalog.tones[0]
    # The armed ffmpeg of the removed track is killed and the new next one takes its place.
    assert not armed & await wait_for_ffmpeg(lambda pids: len(pids) == 2 and not armed & pids)
    collector.release()
    ended = await listener.wait_ended(2)
    assert [(e[1], e[2]) for e in ended] == [
        (catalog.long, EndReason.FINISHED),
        (catalog.tones[1], EndReason.FINISHED),
    ]
    assert collector.plays == 1
    assert [pitch_of_source(collector, i) for i in range(2)] == pytest.approx([440, 550], abs=3)
    assert len(player.queue) == 0
