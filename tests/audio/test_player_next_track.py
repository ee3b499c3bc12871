"""GuildPlayer's next track: its stream prefetched, its ffmpeg pre-started, the handover without a gap."""

from __future__ import annotations

import asyncio

import pytest

from audio.options import PlayerOptions
from audio.player import EndReason, GuildPlayer
from audio.track import Stream
from tests.audio.ffmpeg_processes import wait_for_ffmpeg
from tests.audio.heard_audio import current_source, pitch_of_source, titles
from tests.audio.pcm_analysis import dominant_frequency
from tests.audio.player_doubles import Catalog, RecordingListener, bus, make_track
from tests.audio.voice_collector import VoiceCollector
from tests.media import clock_frequency

pytest_plugins = ("tests.audio.player_fixtures",)

pytestmark = pytest.mark.timeout(60)


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
