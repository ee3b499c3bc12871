"""GuildPlayer's live controls (volume, seek, rewind, forward, a start at a position), judged by ear."""

from __future__ import annotations

import pytest

from audio.errors import PlayerError
from audio.player import EndReason, GuildPlayer
from tests.audio.ffmpeg_processes import ffmpeg_children, wait_for_ffmpeg
from tests.audio.heard_audio import current_source, first_frame_with_pitch, pitch_of, pitch_of_source, titles
from tests.audio.pcm_analysis import rms
from tests.audio.player_doubles import Catalog, RecordingListener
from tests.audio.voice_collector import VoiceCollector
from tests.media import clock_frequency

pytest_plugins = ("tests.audio.player_fixtures",)

pytestmark = pytest.mark.timeout(60)


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


async def test_start_at_a_position_restores_a_saved_track(
    player: GuildPlayer, catalog: Catalog, collector: VoiceCollector, listener: RecordingListener
) -> None:
    player.queue.extend([catalog.clock, catalog.tones[0]])
    assert player.start(position=7.2)
    assert await collector.wait_for_frames(20)
    assert player.position is not None and player.position >= 7.2
    assert pitch_of(collector, 2, 15) == pytest.approx(clock_frequency(7), abs=5)
