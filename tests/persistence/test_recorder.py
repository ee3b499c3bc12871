"""The state recorder against real stores (SQLite always, PostgreSQL when reachable) and real players.

Players play real ffmpeg output into a frame collector (no Discord); what matters here is what ends
up in the database after each kind of change, and how often the position is checkpointed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator, Callable

import discord
import pytest

from audio.player import GuildPlayer, LoopMode
from bot.persistence import StateRecorder
from bot.persistence.snapshot import only_position_changed
from bot.store import GuildState, StateWriter, Store
from tests.audio.player_doubles import Catalog, RecordingListener, bus
from tests.audio.voice_collector import VoiceCollector
from tests.store.conftest import StoreOpener, open_db  # noqa: F401  (fixture)

pytest_plugins = ("tests.audio.player_fixtures",)
pytestmark = pytest.mark.timeout(60)

GUILD = 4242
VOICE_CHANNEL = 555
TEXT_CHANNEL = 777


class SpyWriter(StateWriter):
    """The real writer, plus a log of what it was handed (to measure the checkpoint cadence)."""

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self.saves: list[GuildState] = []
        self.checkpoints: list[tuple[float, float, bool]] = []  # (monotonic time, position, paused)

    def save(self, state: GuildState) -> None:
        self.saves.append(state)
        super().save(state)

    def checkpoint(self, guild_id: int, position: float, *, paused: bool) -> None:
        self.checkpoints.append((time.monotonic(), position, paused))
        super().checkpoint(guild_id, position, paused=paused)


class ChannelVoice(VoiceCollector):
    """A frame collector that says which channel it is in, like discord.VoiceClient.channel."""

    channel = discord.Object(id=VOICE_CHANNEL)


@pytest.fixture
async def store(open_db: StoreOpener) -> Store:  # noqa: F811
    return await open_db()


Rig = tuple[GuildPlayer, StateRecorder, SpyWriter, RecordingListener]


@pytest.fixture
async def rig(store: Store, catalog: Catalog) -> AsyncIterator[Rig]:
    writer = SpyWriter(store)
    recorder = StateRecorder(writer, text_channels={GUILD: TEXT_CHANNEL})
    events = RecordingListener()  # after the recorder: once it saw an event, the recorder did too
    player = GuildPlayer(
        GUILD, extractor=catalog.resolver, loop=asyncio.get_running_loop(),
        events=bus(recorder.on_player_event, events),
    )
    yield player, recorder, writer, events
    await player.close()
    await writer.close()


async def settled(writer: StateWriter, events: RecordingListener, count: int) -> None:
    """Until ``count`` state events were delivered and everything handed to the writer is written."""
    await events.wait_for(lambda r: len(r.of("state")) >= count)
    await writer.flush(GUILD)


async def test_queue_loop_and_volume_are_written_through(rig: Rig, store: Store, catalog: Catalog) -> None:
    player, _, writer, events = rig
    a, b, c = catalog.tones
    player.queue.extend([a, b])
    player.set_loop(LoopMode.QUEUE)
    player.set_volume(40)
    await settled(writer, events, 3)
    saved = await store.load_state(GUILD)
    assert saved is not None
    assert (saved.queue, saved.loop_mode, saved.volume) == ((a, b), "queue", 40)
    assert (saved.current, saved.voice_channel_id, saved.text_channel_id) == (None, None, TEXT_CHANNEL)
    # Two members at the same moment: one adds, one removes; the saved queue has both changes.
    player.queue.add(c)
    player.queue.remove(1)
    await settled(writer, events, 5)
    saved = await store.load_state(GUILD)
    assert saved is not None and saved.queue == (b, c)


async def test_voice_channel_current_track_then_leave_and_stop(rig: Rig, store: Store, catalog: Catalog) -> None:
    player, _, writer, events = rig
    voice = ChannelVoice(asyncio.get_running_loop(), pace=0.02)
    player.voice = voice
    try:
        player.enqueue([catalog.clock, catalog.long])
        await events.wait_for(lambda r: len(r.of("started")) == 1)
        await writer.flush(GUILD)
        saved = await store.load_state(GUILD)
        assert saved is not None
        assert (saved.current, saved.queue, saved.voice_channel_id) == (catalog.clock, (catalog.long,), VOICE_CHANNEL)

        seen = len(events.of("state"))
        await player.detach()  # what leave does: the queue stays, the voice channel is not kept
        await settled(writer, events, seen + 1)
        saved = await store.load_state(GUILD)
        assert saved is not None
        assert (saved.current, saved.queue, saved.voice_channel_id) == (None, (catalog.clock, catalog.long), None)

        seen = len(events.of("state"))
        await player.stop()  # stop clears the saved queue
        await settled(writer, events, seen + 1)
        saved = await store.load_state(GUILD)
        assert saved is not None and (saved.current, saved.queue) == (None, ())
    finally:
        await voice.close()


async def test_position_is_checkpointed_on_the_clock_and_on_pause(rig: Rig, store: Store, catalog: Catalog) -> None:
    player, recorder, writer, events = rig
    voice = ChannelVoice(asyncio.get_running_loop(), pace=0.02)  # real time
    player.voice = voice
    ticker = asyncio.create_task(recorder.run_checkpoints(lambda: [player], interval=0.25))
    try:
        player.enqueue([catalog.clock])
        await events.wait_for(lambda r: len(r.of("started")) == 1)
        saves_before = len(writer.saves)
        await asyncio.wait_for(_until(lambda: len(writer.checkpoints) >= 5), 10)
        ticks = writer.checkpoints[:5]
        gaps = [t1 - t0 for (t0, _, _), (t1, _, _) in zip(ticks, ticks[1:], strict=False)]
        steps = [p1 - p0 for (_, p0, _), (_, p1, _) in zip(ticks, ticks[1:], strict=False)]
        assert all(0.15 <= g <= 0.4 for g in gaps), gaps
        assert all(0.1 <= s <= 0.45 for s in steps), steps  # the position moves with the music
        assert len(writer.saves) == saves_before, "a position change alone must not rewrite the queue"

        player.pause()
        await events.wait_for(lambda r: any(p for _, _, p in writer.checkpoints))
        paused_at = next(pos for _, pos, p in writer.checkpoints if p)
        count = len(writer.checkpoints)
        await asyncio.sleep(0.8)  # a measured stretch: no checkpoint may come while paused
        assert len(writer.checkpoints) == count
        await writer.flush(GUILD)
        saved = await store.load_state(GUILD)
        assert saved is not None and saved.paused and saved.position == pytest.approx(paused_at)
        assert saved.position == pytest.approx(player.position, abs=0.05)
    finally:
        ticker.cancel()
        await voice.close()


async def test_a_restored_track_keeps_its_checkpoint_while_it_is_starting(rig: Rig, catalog: Catalog) -> None:
    player, recorder, writer, _ = rig
    voice = ChannelVoice(asyncio.get_running_loop(), pace=0.02)
    player.voice = voice
    try:
        restored = GuildState(GUILD, voice_channel_id=VOICE_CHANNEL, text_channel_id=TEXT_CHANNEL,
                              current=catalog.clock, position=7.5)
        recorder.seed(restored)
        player.queue.add(catalog.clock)
        assert player.start(position=7.5)
        assert player.position is None  # ffmpeg is not open yet
        writer.saves.clear()
        recorder.record(player)
        assert writer.saves == [] and writer.checkpoints == []  # nothing changed: nothing written
    finally:
        await voice.close()


async def test_recorder_after_close_ignores_changes(rig: Rig, store: Store, catalog: Catalog) -> None:
    player, recorder, writer, events = rig
    player.queue.add(catalog.long)
    await recorder.close([player])  # final snapshot, then the writer is closed
    saved = await store.load_state(GUILD)
    assert saved is not None and saved.queue == (catalog.long,)
    player.queue.add(catalog.clock)
    await events.wait_for(lambda r: len(r.of("state")) >= 2)
    recorder.record(player)  # must not raise on the closed writer
    saved = await store.load_state(GUILD)
    assert saved is not None and saved.queue == (catalog.long,)


def test_only_position_changed() -> None:
    base = GuildState(GUILD, voice_channel_id=1, volume=50, position=3.0)
    assert only_position_changed(base, dataclasses.replace(base, position=9.0, paused=True))
    for change in ({"volume": 60}, {"voice_channel_id": None}, {"loop_mode": "track"}, {"text_channel_id": 2}):
        assert not only_position_changed(base, dataclasses.replace(base, **change))  # type: ignore[arg-type]


async def _until(check: Callable[[], bool]) -> None:
    """Poll a condition owned by another thread's output (the collector) on the loop's own rhythm."""
    while not check():
        await asyncio.sleep(0.02)
