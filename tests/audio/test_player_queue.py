"""GuildPlayer through a queue: order, positions, loops, skip, stop and what needs nothing playing."""

from __future__ import annotations

import pytest

from audio.errors import PlayerError
from audio.player import EndReason, GuildPlayer, LoopMode
from tests.audio.ffmpeg_processes import ffmpeg_children, wait_no_ffmpeg
from tests.audio.heard_audio import current_source, pitch_of_source, titles
from tests.audio.player_doubles import TONES, Catalog, RecordingListener
from tests.audio.voice_collector import VoiceCollector

pytest_plugins = ("tests.audio.player_fixtures",)

pytestmark = pytest.mark.timeout(60)


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


async def test_commands_when_nothing_plays(player: GuildPlayer) -> None:
    for command in (player.pause, player.resume):
        with pytest.raises(PlayerError, match="Nothing is playing"):
            command()
    for coro in (player.seek(3), player.rewind(3), player.forward(3)):
        with pytest.raises(PlayerError, match="Nothing is playing"):
            await coro
    assert player.skip() is None
    await player.stop()  # harmless
