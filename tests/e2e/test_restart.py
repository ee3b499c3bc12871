"""Restart: the real ``python main.py`` is killed with SIGKILL mid-track and started again.

The second process must rejoin the voice channel by itself, bring the queue back and resume the
clock track within one checkpoint interval of where the first one died; both are checked by what
the fake Discord hears (the pitch of the clock says which second is playing) and by ``\\queue``.
Also here: the restore rules in-process (rejoin, re-pause, defer until someone joins, forget) and start-up with a database
that is too new (exit 2) or unusable (plays from memory).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from audio.track import Provider, Track
from bot.bot import BrentBot, create_bot
from bot.persistence import CHECKPOINT_INTERVAL, Persistence, RestoreOutcome
from bot.settings import Settings
from bot.store import UNAVAILABLE_MESSAGE, GuildState, Store, open_store
from bot.store.migrations import LATEST_VERSION
from tests.e2e.brent_rig import (
    MADE_UP_TOKEN,
    PREFIX,
    Member,
    add_music_guild,
    brent_process,
    write_credentials,
)
from tests.e2e.heard_clock import clock_runs, heard_seconds
from tests.fakediscord import FakeDiscord, message_text, pointed_at, running, wait_for_bot
from tests.media import MediaServer, generate_clock, generate_tone, media_server
from tests.store.conftest import postgres_schema

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

CLOCK_SECONDS = 60
SEEK_TO = 42


@pytest.fixture(scope="module")
def restart_media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("restart-media")
    generate_clock(root / "clock60.mp3", CLOCK_SECONDS)
    generate_tone(root / "next500.mp3", 500, 1.5)
    return root


@pytest.fixture
def media(restart_media: Path) -> AsyncIterator[MediaServer]:
    with media_server(restart_media) as server:
        yield server  # type: ignore[misc]


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest) -> AsyncIterator[str | None]:
    """None: the default SQLite file in DATA_DIR; else a fresh PostgreSQL schema (skipped if unreachable)."""
    if request.param == "sqlite":
        yield None
        return
    async with postgres_schema() as url:
        yield url


async def test_kill_9_then_restart_rejoins_and_resumes_queue_and_position(
    fake_discord: FakeDiscord, media: MediaServer, tmp_path: Path, database_url: str | None
) -> None:
    guild = add_music_guild(fake_discord)
    alice = Member(fake_discord, guild, guild.member("alice"))
    workdir = tmp_path / "brent"
    write_credentials(workdir, database_url)
    recorder = fake_discord.voice_log(guild)

    async with brent_process(fake_discord, workdir, "first") as first:
        await fake_discord.wait_for_ready(timeout=30)
        await alice.join_voice()
        play_cmd, _ = await alice.ask(f"play {media.url('clock60.mp3')}", "Playing", timeout=30)
        await alice.ask(f"play {media.url('next500.mp3')}", "#1", timeout=30)
        await recorder.wait_for_audio(0.3, timeout=20, after=play_cmd.sent_at)
        seek_cmd, _ = await alice.ask(f"seek 0:{SEEK_TO}", "Now at", timeout=30)
        await recorder.wait_for_audio(2.5, timeout=20, after=seek_cmd.sent_at)
        first.kill()
        assert await first.wait() == -9
        killed_at = time.perf_counter()
    before = heard_seconds(clock_runs(recorder.pcm(after=seek_cmd.sent_at)))
    assert SEEK_TO in before, before  # (the tail of second 0 may come before the seek lands)
    before = before[before.index(SEEK_TO):]
    assert before == list(range(SEEK_TO, before[-1] + 1)) and before[-1] >= SEEK_TO + 2, before
    last_heard = before[-1]

    async with brent_process(fake_discord, workdir, "second") as second:
        await fake_discord.wait_until(lambda: fake_discord.gateway.identify_count >= 2, 30, "a second IDENTIFY")
        # Nobody typed anything: the bot rejoins and plays because of what it saved.
        await recorder.wait_for_audio(3.0, timeout=40, after=killed_at)
        after = heard_seconds(clock_runs(recorder.pcm(after=killed_at)))
        assert after, "the restarted bot played no clock audio"
        resumed_at = after[0]
        assert last_heard - CHECKPOINT_INTERVAL - 1 <= resumed_at <= last_heard, (before, after)
        assert after == list(range(resumed_at, resumed_at + len(after))), after
        _, queue_reply = await alice.ask("queue", "Up next", timeout=20)
        listed = message_text(queue_reply)
        assert "clock60" in listed and "next500" in listed
        assert listed.count("`1.`") == 1 and "`2.`" not in listed
        second.terminate()
        assert await asyncio.wait_for(second.wait(), 20) == 0
    logs = "".join((workdir / f"{n}.{s}").read_text(errors="replace") for n in ("first", "second") for s in ("out", "err"))
    assert "restore resumed" in logs
    assert MADE_UP_TOKEN not in logs


async def test_sigterm_saves_the_exact_position_and_the_next_start_resumes_there(
    fake_discord: FakeDiscord, media: MediaServer, tmp_path: Path
) -> None:
    """An orderly stop writes a final snapshot: the resume is within a second, not a checkpoint interval."""
    guild = add_music_guild(fake_discord)
    alice = Member(fake_discord, guild, guild.member("alice"))
    workdir = tmp_path / "brent"
    write_credentials(workdir)
    recorder = fake_discord.voice_log(guild)
    async with brent_process(fake_discord, workdir, "first") as first:
        await fake_discord.wait_for_ready(timeout=30)
        await alice.join_voice()
        play_cmd, _ = await alice.ask(f"play {media.url('clock60.mp3')}", "Playing", timeout=30)
        await recorder.wait_for_audio(0.3, timeout=20, after=play_cmd.sent_at)
        seek_cmd, _ = await alice.ask("seek 20", "Now at", timeout=30)
        await recorder.wait_for_audio(3.5, timeout=20, after=seek_cmd.sent_at)  # less than a checkpoint interval
        first.terminate()
        assert await asyncio.wait_for(first.wait(), 20) == 0
        stopped_at = time.perf_counter()
    before = heard_seconds(clock_runs(recorder.pcm(after=seek_cmd.sent_at)))
    last_heard = before[-1]
    assert last_heard >= 22, before
    async with brent_process(fake_discord, workdir, "second") as second:
        await fake_discord.wait_until(lambda: fake_discord.gateway.identify_count >= 2, 30, "a second IDENTIFY")
        await recorder.wait_for_audio(2.0, timeout=40, after=stopped_at)
        after = heard_seconds(clock_runs(recorder.pcm(after=stopped_at)))
        assert after and last_heard - 1 <= after[0] <= last_heard, (before, after)
        second.terminate()
        assert await asyncio.wait_for(second.wait(), 20) == 0


# --- the restore rules, in-process (faster to vary than a subprocess) ---------------------------------



@contextlib.asynccontextmanager
async def restored_bot(
    fake_discord: FakeDiscord, database: str, tmp_path: Path
) -> AsyncIterator[tuple[BrentBot, Persistence, Store]]:
    """An in-process BRENT on ``database`` against the fake, once its restore after READY is done."""
    settings = Settings(command_prefix=PREFIX, allow_private_network=True, data_dir=tmp_path, database_url=database)
    reopened = await open_store(database, tmp_path)
    bot = create_bot(settings, connector=fake_discord.connector(), guild_ready_timeout=0.1)
    bot.store = reopened
    persistence = Persistence(bot, reopened, retry_delay=0.1)
    await bot.add_cog(persistence)
    with pointed_at(fake_discord):
        async with running(bot):
            await asyncio.wait_for(persistence.restored.wait(), 30)
            yield bot, persistence, reopened


def media_track(media: MediaServer, name: str, duration: float | None) -> Track:
    return Track(name, media.url(f"{name}.mp3"), duration, None, None, Provider.DIRECT)


async def test_a_direct_file_saved_before_it_was_measured_gets_its_length_after_the_restore(
    fake_discord: FakeDiscord, media: MediaServer, tmp_path: Path
) -> None:
    """``play`` measures a direct file while it already plays; a kill in that moment saves it with
    no length, which the restore measures, so the pre-start and the break-off recovery work again."""
    guild = add_music_guild(fake_discord, "Unmeasured Guild")
    await fake_discord.member_join_voice(guild, guild.member("alice"), guild.voice_channel)
    unmeasured, after = media_track(media, "clock60", None), media_track(media, "next500", None)
    database = f"sqlite:///{tmp_path / 'brent.db'}"
    store = await open_store(database, tmp_path)
    await store.save_state(GuildState(guild.id, voice_channel_id=guild.voice_channel.id, current=unmeasured,
                                      queue=(after,), position=3.0))
    await store.close()

    async with restored_bot(fake_discord, database, tmp_path) as (bot, persistence, reopened):
        player = bot.players[guild.id]
        await wait_for_bot(
            lambda: player.current is not None and player.current.duration is not None, 30, "the length"
        )
        assert player.current is not None and player.current.duration == pytest.approx(60.0, abs=0.1)
        queued = list(player.queue)
        assert [t.title for t in queued] == ["next500"] and queued[0].duration == pytest.approx(1.5, abs=0.1)
        await persistence.writer.flush()
        saved = await reopened.load_state(guild.id)
        assert saved is not None and saved.current is not None
        assert saved.current.duration == pytest.approx(60.0, abs=0.1)
        await persistence.close()


async def test_a_play_sent_while_the_saved_queue_is_restored_queues_behind_it(
    fake_discord: FakeDiscord, media: MediaServer, tmp_path: Path
) -> None:
    """The restore takes its arrival turn first: a `play` typed while the bot rejoins voice queues
    after the saved tracks, and the saved track still resumes at its checkpoint."""
    guild = add_music_guild(fake_discord, "Busy Restore Guild")
    alice = Member(fake_discord, guild, guild.member("alice"))
    await alice.join_voice()
    clock, saved_next = media_track(media, "clock60", 60.0), media_track(media, "next500", 1.5)
    state = GuildState(guild.id, voice_channel_id=guild.voice_channel.id, current=clock, queue=(saved_next,),
                       position=20.0)
    database = f"sqlite:///{tmp_path / 'brent.db'}"
    async with restored_bot(fake_discord, database, tmp_path) as (bot, persistence, _):
        asked_before = len(fake_discord.gateway_log)
        restoring = asyncio.create_task(persistence.restorer.restore(state))
        await fake_discord.wait_until(
            lambda: any(op.op == 4 for op in fake_discord.gateway_log[asked_before:]), 20, "the rejoin"
        )
        recorder = fake_discord.voice_log(guild)
        started = time.perf_counter()
        await alice.ask(f"play {media.url('next500.mp3')}", "#2", timeout=30)
        result = await asyncio.wait_for(restoring, 30)
        assert result.outcome is RestoreOutcome.RESUMED, result
        player = bot.players[guild.id]
        assert player.current == clock
        assert [t.title for t in player.queue] == ["next500", "next500"]
        assert [t.requester_id for t in player.queue][0] == saved_next.requester_id
        await recorder.wait_for_audio(1.5, timeout=20, after=started)
        assert heard_seconds(clock_runs(recorder.pcm(after=started)))[0] in (20, 21)
        await persistence.close()


async def test_restore_rejoins_where_people_are_defers_where_nobody_is_and_forgets_lost_guilds(
    fake_discord: FakeDiscord, media: MediaServer, tmp_path: Path
) -> None:
    playing = add_music_guild(fake_discord, "Playing Guild")
    paused = add_music_guild(fake_discord, "Paused Guild")
    empty = add_music_guild(fake_discord, "Empty Guild")
    moved = add_music_guild(fake_discord, "Channel Deleted Guild")
    gone_id = 987_654_321
    clock, after = media_track(media, "clock60", 60.0), media_track(media, "next500", 1.5)
    for guild in (playing, paused):
        await fake_discord.member_join_voice(guild, guild.member("alice"), guild.voice_channel)

    database = f"sqlite:///{tmp_path / 'brent.db'}"
    store = await open_store(database, tmp_path)
    for guild_id, state in (
        (playing.id, dict(position=20.0, loop_mode="queue", volume=80)),
        (paused.id, dict(position=5.0, paused=True)),
        (empty.id, dict(position=30.0)),
        (gone_id, dict(position=1.0)),
        (moved.id, dict(position=12.0)),
    ):
        known = {g.id: g.voice_channel.id for g in (playing, paused, empty)}
        channel = known.get(guild_id, 1)  # 1: a channel that does not exist (any more)
        await store.save_state(GuildState(guild_id, voice_channel_id=channel, current=clock, queue=(after,), **state))  # type: ignore[arg-type]
    await store.close()

    recorder = fake_discord.voice_log(playing)
    started = time.perf_counter()
    async with restored_bot(fake_discord, database, tmp_path) as (bot, persistence, reopened):
        bot.dispatch("ready")  # READY again (a reconnect): no second restore
        outcomes = {r.guild_id: r.outcome for r in persistence.restore_results}
        assert outcomes == {
            playing.id: RestoreOutcome.RESUMED, paused.id: RestoreOutcome.RESUMED,
            empty.id: RestoreOutcome.DEFERRED, gone_id: RestoreOutcome.FORGOTTEN,
            moved.id: RestoreOutcome.WAITING,
        }
        await recorder.wait_for_audio(1.5, timeout=20, after=started)
        heard = heard_seconds(clock_runs(recorder.pcm(after=started)))
        assert heard[0] in (20, 21), heard
        player = bot.players[playing.id]
        assert (player.loop_mode.value, player.volume, list(player.queue)) == ("queue", 80, [after])

        paused_player = bot.players[paused.id]
        await fake_discord.wait_for_bot_voice(paused, paused.voice_channel, timeout=20)
        np_member = Member(fake_discord, paused, paused.member("alice"))
        _, reply = await np_member.ask("np", "paused", timeout=20)
        assert "0:05" in message_text(reply) or "0:06" in message_text(reply)
        assert paused_player.is_paused

        # Nobody was in Empty Guild's channel: the saved state is kept as it was, untouched...
        assert fake_discord.bot_voice_channel(empty) is None
        kept = await reopened.load_state(empty.id)
        assert kept is not None and (kept.current, kept.position, kept.voice_channel_id) == (
            clock, 30.0, empty.voice_channel.id,
        )
        # ...until someone joins that channel: then the bot follows and resumes at the checkpoint.
        empty_log = fake_discord.voice_log(empty)
        bob = Member(fake_discord, empty, empty.member("bob"))
        joined = time.perf_counter()
        await bob.join_voice()
        await fake_discord.wait_for_bot_voice(empty, empty.voice_channel, timeout=20)
        await empty_log.wait_for_audio(1.5, timeout=20, after=joined)
        assert heard_seconds(clock_runs(empty_log.pcm(after=joined)))[0] in (30, 31)
        _, listing = await bob.ask("queue", "Up next", timeout=20)
        assert "Now: **clock60**" in message_text(listing) and "`1.` **next500**" in message_text(listing)

        # The channel is gone: the queue waits in memory (as after leave), the interrupted track first.
        someone = Member(fake_discord, moved, moved.member("alice"))
        _, waiting = await someone.ask("queue", "Up next", timeout=20)
        assert "`1.` **clock60**" in message_text(waiting) and "`2.` **next500**" in message_text(waiting)

        await persistence.writer.flush()
        assert await reopened.load_state(gone_id) is None
        assert len(persistence.restore_results) == 5
        await persistence.close()


# --- start-up with a database that cannot be used --------------------------------------------------




def _bump_schema(path: Path, version: int) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE schema_version SET version = ?", (version,))


async def test_a_database_from_a_newer_brent_stops_start_up_with_exit_code_2(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    workdir = tmp_path / "brent"
    write_credentials(workdir)
    store = await open_store(None, workdir / "data")
    await store.close()
    await asyncio.to_thread(_bump_schema, workdir / "data" / "brent.db", LATEST_VERSION + 1)
    async with brent_process(fake_discord, workdir, "newer") as proc:
        assert await asyncio.wait_for(proc.wait(), 30) == 2
    logs = (workdir / "newer.out").read_text() + (workdir / "newer.err").read_text()
    assert "created by a newer BRENT" in logs
    assert fake_discord.gateway.identify_count == 0  # it stopped before logging in


async def test_an_unusable_database_is_logged_and_brent_plays_without_it(
    fake_discord: FakeDiscord, media: MediaServer, tmp_path: Path
) -> None:
    guild = add_music_guild(fake_discord)
    alice = Member(fake_discord, guild, guild.member("alice"))
    workdir = tmp_path / "brent"
    write_credentials(workdir)
    blocker = workdir / "not-a-folder"
    blocker.write_text("a file where the data folder should be")
    credentials = workdir / "credentials.env"
    credentials.write_text(credentials.read_text().replace(f"DATA_DIR={workdir / 'data'}", f"DATA_DIR={blocker / 'data'}"))
    async with brent_process(fake_discord, workdir, "nodb") as proc:
        await fake_discord.wait_for_ready(timeout=30)
        _, reply = await alice.ask("pl list", "database", timeout=30)
        assert reply["content"] == UNAVAILABLE_MESSAGE
        await alice.join_voice()
        await alice.ask(f"play {media.url('next500.mp3')}", "Playing", timeout=30)
        proc.terminate()
        assert await asyncio.wait_for(proc.wait(), 20) == 0
    logs = (workdir / "nodb.out").read_text() + (workdir / "nodb.err").read_text()
    assert "The database is unavailable" in logs
