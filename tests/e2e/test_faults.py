"""Faults through the whole bot against the loopback Discord, with real ffmpeg and yt-dlp.

A source that 404s or never answers is skipped with one message and the queue goes on; a lookup
that hangs times out for its guild while another guild's audio keeps its pace; a dropped voice
websocket is resumed (the clock track goes on where it was) or, when the bot was thrown out,
cleaned up with the queue kept; SIGINT saves the state, leaves voice, leaves no ffmpeg, exits 0.
"""

from __future__ import annotations

import asyncio
import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import discord
import numpy as np
import psutil
import pytest

from bot.store import open_store
from tests.e2e.brent_rig import (
    MADE_UP_TOKEN,
    MAIN_PY,
    Member,
    StartBrent,
    add_music_guild,
    brent_process,
    player_ffmpeg,
    write_credentials,
)
from tests.e2e.heard_clock import clock_runs
from tests.fakediscord import FakeDiscord, FakeGuild, wait_for_bot
from tests.fakediscord.waiting import WaitTimeout
from tests.media import MediaServer, generate_clock, generate_tone, media_server

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

SHORT = 1.5
FIRST = 4.0  # long enough for two more lookups before it ends
RW_TIMEOUT = 1.5


@pytest.fixture(scope="module")
def faults_media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("faults-media")
    generate_tone(root / "first500.mp3", 500, FIRST)
    generate_tone(root / "last700.mp3", 700, SHORT)
    generate_tone(root / "long880.mp3", 880, 10)
    generate_clock(root / "clock.mp3", 8)
    generate_clock(root / "clock30.mp3", 30)
    return root


@pytest.fixture
def faults_media(faults_media_dir: Path, tmp_path: Path) -> Iterator[MediaServer]:
    """A per-test copy of the media (tests delete files), with ``/hang.mp3`` never answering."""
    root = tmp_path / "media"
    shutil.copytree(faults_media_dir, root)
    with media_server(root, hang_paths={"/hang.mp3"}) as server:
        yield server


@pytest.fixture
def brent(start_brent: StartBrent) -> StartBrent:
    """``start_brent`` from the scenarios, under a name that does not shadow the import."""
    return start_brent


@pytest.fixture
def alice(fake_discord: FakeDiscord) -> Member:
    guild = add_music_guild(fake_discord)
    return Member(fake_discord, guild, guild.member("alice"))


def voice_ws_of(fake: FakeDiscord, guild: FakeGuild) -> object | None:
    sessions = fake.notifier.call(lambda: fake.voice.active_sessions(guild.id))
    return sessions[-1].ws if sessions else None


def skipped_messages(fake: FakeDiscord, guild: FakeGuild) -> list[str]:
    return [m["content"] for m in fake.bot_messages(guild.text_channel) if m["content"].startswith("Skipped")]


@pytest.mark.parametrize("fault", ["404", "timeout"])
async def test_a_dead_source_is_skipped_with_one_message_and_the_queue_goes_on(
    fault: str,
    brent: StartBrent,
    alice: Member,
    faults_media: MediaServer,
    fake_discord: FakeDiscord,
) -> None:
    """The middle track worked when it was queued; by its turn its file is gone (404) or the
    server no longer answers (ffmpeg's -rw_timeout, shortened here, ends the wait)."""
    recorder = fake_discord.voice_log(alice.guild)
    async with brent(extract_timeout=3.0) as bot:
        bot.player_for(discord.Object(alice.guild.id)).options.rw_timeout = RW_TIMEOUT
        await alice.join_voice()
        first, _ = await alice.ask(f"play {faults_media.url('first500.mp3')}", "Playing")
        await alice.ask(f"play {faults_media.url('long880.mp3')}", "#1")
        # At once: its ffmpeg starts 3 s before the first track ends, which must find the fault.
        if fault == "404":
            (Path(faults_media.root) / "long880.mp3").unlink()
        else:
            faults_media.hang_paths.add("/long880.mp3")
        await alice.ask(f"play {faults_media.url('last700.mp3')}", "#2")
        skipped = await fake_discord.wait_for_message(alice.guild.text_channel, "Skipped", 20, after=first)
        await recorder.wait_for_audio(FIRST + SHORT - 0.1, timeout=20, after=first.sent_at)
        await recorder.wait_for_silence(timeout=10, after=fake_discord.message_time(skipped))
        await wait_for_bot(lambda: not player_ffmpeg(bot), 5, "ffmpeg to exit")
    ffmpeg_asked = [
        r for r in faults_media.requests
        if r.path == "/long880.mp3" and any(k.lower() == "icy-metadata" for k in r.headers)
    ]  # fmt: skip
    assert ffmpeg_asked, "ffmpeg itself met the dead source (not only the lookup)"
    # The dead track was pre-started during the first one and failed there: a short switch, not
    # ffmpeg's default 15 s network timeout.
    transitions = recorder.transitions()
    assert len(transitions) == 1 and transitions[0] < RW_TIMEOUT, transitions
    assert len(skipped_messages(fake_discord, alice.guild)) == 1
    assert "long880" in skipped["content"]
    assert "http" not in skipped["content"]  # no stream URL leaks into the channel
    assert recorder.errors == []
    # Heard: the first track, then the last one; nothing of the dead one.
    assert recorder.audio_seconds() == pytest.approx(FIRST + SHORT, abs=0.2)
    assert recorder.dominant_frequency(0.2, FIRST - 0.2) == pytest.approx(500, abs=2)
    assert recorder.dominant_frequency(FIRST + 0.2, FIRST + SHORT - 0.2) == pytest.approx(700, abs=2)


async def test_a_hanging_lookup_times_out_while_another_guild_keeps_playing(
    brent: StartBrent, fake_discord: FakeDiscord, faults_media: MediaServer
) -> None:
    first, second = add_music_guild(fake_discord, "Playing"), add_music_guild(fake_discord, "Waiting")
    a, b = (
        Member(fake_discord, first, first.member("alice")),
        Member(fake_discord, second, second.member("alice")),
    )
    recorder = fake_discord.voice_log(first)
    timeout = 2.0
    async with brent(extract_timeout=timeout):
        await asyncio.gather(a.join_voice(), b.join_voice())
        started, _ = await a.ask(f"play {faults_media.url('long880.mp3')}", "Playing")
        await recorder.wait_for_audio(1.0, after=started.sent_at)
        asked, reply = await b.ask(f"play {faults_media.url('hang.mp3')}", "took too long", timeout=15)
        answered = fake_discord.message_time(reply)
        packets = [p for p in recorder.audio_packets(after=asked.sent_at) if p.arrival <= answered]
        waited = answered - asked.sent_at
    # Guild A's packet spacing while B's lookup hung, up to B's answer.
    gaps_ms = np.diff([p.arrival for p in packets]) * 1000
    assert timeout - 0.1 <= waited <= timeout + 2.0
    assert len(gaps_ms) >= 0.9 * waited / 0.020  # A was heard the whole time B waited
    assert np.percentile(gaps_ms, 99) < 40.0, sorted(gaps_ms)[-5:]
    assert np.median(gaps_ms) == pytest.approx(20.0, abs=1.0)
    assert fake_discord.voice_log(second).audio_packets() == []


async def reconnected(fake: FakeDiscord, guild: FakeGuild, old_ws: object, timeout: float = 15.0) -> None:
    """Wait for a new voice websocket, waking discord.py's UDP reader as it goes.

    discord.py 2.7.1's socket reader stays parked up to 30 s in ``select`` on the UDP socket it
    had before a reconnect (see tests/fakediscord/README.md, "move"); one datagram to the old
    socket ends that wait, so the reconnect is poked along until the new session is up.
    """
    deadline = time.perf_counter() + timeout
    while True:
        await fake.poke_old_voice_sockets(guild)
        try:
            await fake.wait_until(
                lambda: voice_ws_of(fake, guild) not in (None, old_ws), 0.3, "a new voice session"
            )
            return
        except WaitTimeout:
            if time.perf_counter() > deadline:
                raise


async def test_a_dropped_voice_websocket_reconnects_and_the_track_goes_on_where_it_was(
    brent: StartBrent, alice: Member, faults_media: MediaServer, fake_discord: FakeDiscord
) -> None:
    """Close code 4000 (not one discord.py special-cases): it leaves the channel, joins again with
    the same VoiceClient and a new voice session. Its AudioPlayer gives up on the source meanwhile,
    so the player waits for the connection and restarts the clock where it was cut off: no second
    repeated or skipped, and the voice cog does not mistake the reconnect for being thrown out."""
    recorder = fake_discord.voice_log(alice.guild)
    async with brent() as bot:
        await alice.join_voice()
        started, _ = await alice.ask(f"play {faults_media.url('clock.mp3')}", "Playing")
        await recorder.wait_for_audio(2.5, after=started.sent_at)
        ws_before = voice_ws_of(fake_discord, alice.guild)
        dropped_at = time.perf_counter()
        await fake_discord.drop_bot_voice(alice.guild, 4000)
        await reconnected(fake_discord, alice.guild, ws_before)
        await recorder.wait_for_audio(8.0 - 0.3, timeout=25, after=started.sent_at)
        player = bot.players[alice.guild.id]
        await wait_for_bot(lambda: player.current is None, 10, "the clock to end")
        assert player.voice is not None
        assert await alice.ask("np", "Nothing")
    seconds = [k for _, k in clock_runs(recorder.pcm())]
    assert seconds == list(range(8)), seconds
    assert recorder.audio_seconds() == pytest.approx(8.0, abs=0.3)
    assert recorder.audio_packets(after=dropped_at)  # some of it came after the drop
    assert recorder.errors == []


async def test_being_thrown_out_of_voice_cleans_up_and_keeps_the_queue(
    brent: StartBrent, alice: Member, faults_media: MediaServer, fake_discord: FakeDiscord
) -> None:
    """VOICE_STATE_UPDATE without a channel and the voice websocket closed 4014: no reconnect is
    possible, so the player lets go of voice and ffmpeg and keeps the queue for a later join."""
    recorder = fake_discord.voice_log(alice.guild)
    async with brent() as bot:
        await alice.join_voice()
        started, _ = await alice.ask(f"play {faults_media.url('clock30.mp3')}", "Playing")
        await alice.ask(f"play {faults_media.url('last700.mp3')}", "#1")
        await recorder.wait_for_audio(1.0, after=started.sent_at)
        await fake_discord.disconnect_bot_from_voice(alice.guild)
        player = bot.players[alice.guild.id]
        await wait_for_bot(
            lambda: player.voice is None and player.current is None, 10, "the player to detach"
        )
        await wait_for_bot(lambda: not player_ffmpeg(bot), 5, "ffmpeg to exit")
        await wait_for_bot(lambda: not bot.voice_clients, 10, "the voice client to go")
        # discord.py answers the 4014 with a leave of its own (op 4 without a channel); Discord
        # confirms it a moment later. A join sent before that confirmation is processed would see
        # it as its own disconnection (discord.py's disconnect(wait=True) exists for this race), so
        # the member types join after the fake answered the leave: the gateway delivers in order.
        await fake_discord.wait_until(
            lambda: (alice.guild.id, None) in fake_discord.gateway.voice_states_answered, 10, "the leave answered"
        )
        assert [t.title for t in player.queue] == ["clock30", "last700"]
        heard_before = recorder.audio_seconds()
        rejoined, _ = await alice.ask("join", "Resuming the queue")
        await recorder.wait_for_audio(1.0, after=rejoined.sent_at)
    # The cut-off track continues from where it was thrown out, not from 0:00.
    first_second = clock_runs(recorder.pcm(after=rejoined.sent_at))[0][1]
    assert first_second >= 1 and abs(first_second - heard_before) <= 1.0, (first_second, heard_before)


async def test_a_voice_reconnect_that_never_succeeds_cleans_up_and_keeps_the_queue(
    brent: StartBrent, alice: Member, faults_media: MediaServer, fake_discord: FakeDiscord
) -> None:
    """The voice websocket drops and every new voice IDENTIFY is refused: discord.py 2.7.1 goes
    on retrying in the background, so the player stops waiting after its ``reconnect_wait`` (short
    here), kills ffmpeg, lets go of voice and keeps the cut-off track at the front of the queue."""
    recorder = fake_discord.voice_log(alice.guild)

    async def refuse_identify(ws: Any, d: Any) -> None:
        await ws.close(code=4004, message=b"Authentication failed.")
        return None

    async with brent() as bot:
        player = bot.player_for(discord.Object(alice.guild.id))
        player.options.reconnect_wait = 2.0
        await alice.join_voice()
        started, _ = await alice.ask(f"play {faults_media.url('clock30.mp3')}", "Playing")
        await alice.ask(f"play {faults_media.url('last700.mp3')}", "#1")
        await recorder.wait_for_audio(1.0, after=started.sent_at)
        fake_discord.notifier.call(lambda: setattr(fake_discord.voice, "_identify", refuse_identify))
        dropped_at = time.perf_counter()
        await fake_discord.drop_bot_voice(alice.guild, 4000)
        await wait_for_bot(lambda: player.voice is None, 15, "the player to give up on voice")
        gave_up_at = time.perf_counter()
        gave_up_after = gave_up_at - dropped_at
        await wait_for_bot(lambda: not player_ffmpeg(bot), 5, "ffmpeg to exit")
        assert player.current is None
        assert [t.title for t in player.queue] == ["clock30", "last700"]
    assert 2.0 <= gave_up_after < 8.0
    assert recorder.audio_seconds(after=gave_up_at) == 0.0


@pytest.mark.skipif(not MAIN_PY.exists(), reason="main.py is not written yet")
async def test_sigint_saves_state_leaves_voice_kills_ffmpeg_and_exits_0(
    fake_discord: FakeDiscord, faults_media: MediaServer, tmp_path: Path
) -> None:
    guild = add_music_guild(fake_discord)
    alice = Member(fake_discord, guild, guild.member("alice"))
    workdir = tmp_path / "brent"
    write_credentials(workdir)
    recorder = fake_discord.voice_log(guild)
    async with brent_process(fake_discord, workdir, "sigint") as proc:
        await fake_discord.wait_for_ready(timeout=30)
        await alice.join_voice()
        started, _ = await alice.ask(f"play {faults_media.url('clock30.mp3')}", "Playing", timeout=30)
        await alice.ask(f"play {faults_media.url('last700.mp3')}", "#1", timeout=30)
        await recorder.wait_for_audio(1.5, after=started.sent_at)
        children = [c for c in psutil.Process(proc.pid).children(recursive=True) if "ffmpeg" in c.name()]
        assert children, "the bot process should be running ffmpeg while playing"
        proc.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(proc.wait(), 20) == 0
        heard = recorder.audio_seconds()
    assert fake_discord.bot_voice_channel(guild) is None
    assert not any(c.is_running() and c.status() != psutil.STATUS_ZOMBIE for c in children)
    store = await open_store(None, workdir / "data")
    try:
        state = await store.load_state(guild.id)
    finally:
        await store.close()
    assert state is not None
    assert state.current is not None and state.current.title == "clock30"
    assert [t.title for t in state.queue] == ["last700"]
    assert 0.0 < state.position <= heard + 0.5
    logs = b"".join(p.read_bytes() for p in workdir.glob("sigint.*")).decode(errors="replace")
    assert MADE_UP_TOKEN not in logs
    assert "Traceback" not in logs, logs[-3000:]
    assert np.isfinite(state.position)


async def test_two_plays_sent_at_once_reach_the_queue_in_the_order_they_were_sent(
    brent: StartBrent, alice: Member, faults_media: MediaServer, fake_discord: FakeDiscord
) -> None:
    """The first link's lookup hangs until the lookup timeout; the second one's lookup is done at
    once but waits for its turn, so its track is not queued ahead of a command sent before it."""
    async with brent(extract_timeout=2.0):
        await alice.join_voice()
        first = await alice.say(f"play {faults_media.url('hang.mp3')}")
        await alice.say(f"play {faults_media.url('last700.mp3')}")
        refused = await fake_discord.wait_for_message(alice.guild.text_channel, "took too long", 15, after=first)
        playing = await fake_discord.wait_for_message(alice.guild.text_channel, "Playing", 15, after=first)
    assert int(refused["id"]) < int(playing["id"])  # the second waited for the first to be done
    assert "last700" in playing["content"]
