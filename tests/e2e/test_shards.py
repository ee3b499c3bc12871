"""Sharding: two BRENT processes, one shard each, on one PostgreSQL, through the loopback Discord.

Guild ids are chosen so one guild falls on each of two shards. Each guild must be served by
exactly one process (only that process's gateway session ever asks to join its voice, and each
command gets one answer); a SIGKILL of one process must leave the other guild playing, and the
killed process's guild must come back by itself when that process restarts, without the restart
touching the other process's guild or its saved state.

First, the fake's own sharding, with plain discord.py AutoShardedBots: each shard's session is told
only about its guilds and gets only their events, and GET /gateway/bot recommends a shard count.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import discord
import pytest
from discord.ext import commands

from bot.persistence import CHECKPOINT_INTERVAL
from bot.store import open_store
from tests.e2e.brent_rig import Member, brent_process, write_credentials
from tests.e2e.heard_clock import clock_runs, heard_seconds
from tests.fakediscord import FakeDiscord, FakeGuild, pointed_at, running, wait_for_bot
from tests.fakediscord.gateway import GatewaySession
from tests.fakediscord.model import snowflake
from tests.hosting.health_cli import health
from tests.media import MediaServer, generate_clock, media_server
from tests.store.conftest import postgres_schema

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

SHARDS = 2


def guild_id_on_shard(shard_id: int, shard_count: int = SHARDS) -> int:
    """A fresh snowflake moved to a millisecond that Discord's formula puts on ``shard_id``."""
    fresh = snowflake()
    ms = fresh >> 22
    return ((ms - ms % shard_count + shard_id) << 22) | (fresh & 0x3FFFFF)


def add_guild_on_shard(fake: FakeDiscord, shard_id: int) -> FakeGuild:
    return fake.add_guild(
        f"Shard {shard_id} Guild", guild_id=guild_id_on_shard(shard_id), members=("alice", "bob")
    )


def sessions_by_shard(fake: FakeDiscord) -> dict[int, list[GatewaySession]]:
    found: dict[int, list[GatewaySession]] = {}
    for session in fake.gateway.sessions.values():
        if session.shard is not None:
            found.setdefault(session.shard[0], []).append(session)
    return found


def voice_requests(fake: FakeDiscord, guild: FakeGuild) -> list[tuple[float, list[int] | None]]:
    """(when, shard of the session it came on) of every op 4 the bot sent for ``guild``."""
    return [(op.at, op.shard) for op in fake.gateway_log if op.op == 4 and int(op.d["guild_id"]) == guild.id]


# --- the fake's sharding, with discord.py's own AutoShardedBot ------------------------------------


def message_bot(
    fake: FakeDiscord, heard: list[int | None], **shard_options: object
) -> commands.AutoShardedBot:
    """discord.py's AutoShardedBot (not BRENT's), noting the guild of every message it receives."""
    intents = discord.Intents.default()
    intents.message_content = True
    bot = commands.AutoShardedBot(
        command_prefix="!",
        intents=intents,
        connector=fake.connector(),
        guild_ready_timeout=0.1,
        **shard_options,  # type: ignore[arg-type]
    )

    async def on_message(message: discord.Message) -> None:
        heard.append(message.guild.id if message.guild else None)

    bot.add_listener(on_message, "on_message")
    return bot


async def test_each_shard_session_gets_only_its_guilds_and_their_events(fake_discord: FakeDiscord) -> None:
    guilds = [add_guild_on_shard(fake_discord, shard_id) for shard_id in range(SHARDS)]
    heard: list[list[int | None]] = [[] for _ in range(SHARDS)]
    bots = [message_bot(fake_discord, heard[i], shard_count=SHARDS, shard_ids=[i]) for i in range(SHARDS)]
    with pointed_at(fake_discord):
        async with running(bots[0]), running(bots[1]):
            assert [[g.id for g in bot.guilds] for bot in bots] == [[guilds[0].id], [guilds[1].id]]
            for guild in guilds:
                alice = guild.member("alice")
                await fake_discord.inject_message(guild, guild.text_channel, alice, "hello")
                await fake_discord.member_join_voice(guild, alice, guild.voice_channel)
            await wait_for_bot(lambda: all(heard), 10, "each bot's message")
            # Added while connected: GUILD_CREATE only on the shard that holds it.
            late = fake_discord.add_guild("Late Guild", guild_id=guild_id_on_shard(1))
            await wait_for_bot(
                lambda: bots[1].get_guild(late.id) is not None, 10, "the late guild on shard 1"
            )
            assert heard == [[guilds[0].id], [guilds[1].id]]
            assert bots[0].get_guild(late.id) is None
    sessions = sessions_by_shard(fake_discord)
    for shard_id, expected in ((0, {guilds[0].id}), (1, {guilds[1].id, late.id})):
        (session,) = sessions[shard_id]
        told = {guild_id for _, guild_id in session.dispatched if guild_id is not None}
        assert told == expected, (shard_id, session.dispatched)


async def test_get_gateway_bot_recommends_the_configured_shard_count(fake_discord: FakeDiscord) -> None:
    guilds = [add_guild_on_shard(fake_discord, shard_id) for shard_id in range(SHARDS)]
    fake_discord.rest.recommended_shards = SHARDS
    bot = message_bot(fake_discord, [])  # no shard_count: discord.py asks GET /gateway/bot
    with pointed_at(fake_discord):
        async with running(bot, ready_timeout=30):
            assert bot.shard_count == SHARDS and set(bot.shards) == {0, 1}
            assert {g.id: g.shard_id for g in bot.guilds} == {guilds[0].id: 0, guilds[1].id: 1}
    assert sorted(op.d["shard"] for op in fake_discord.gateway_log if op.op == 2) == [[0, 2], [1, 2]]


# --- two real BRENT processes on one PostgreSQL ---------------------------------------------------


@pytest.fixture(scope="module")
def clock_media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("shard-media")
    generate_clock(root / "clock60.mp3", 60)
    return root


@pytest.fixture
def media(clock_media: Path) -> Iterator[MediaServer]:
    with media_server(clock_media) as server:
        yield server


def write_shard_credentials(workdir: Path, database_url: str, shard_id: int) -> None:
    write_credentials(workdir, database_url)
    with (workdir / "credentials.env").open("a") as env:
        env.write(f"SHARD_COUNT={SHARDS}\nSHARD_IDS={shard_id}\n")


def logs_of(workdir: Path, *names: str) -> str:
    return "".join((workdir / f"{n}.{s}").read_text(errors="replace") for n in names for s in ("out", "err"))


async def test_two_processes_each_serve_their_shard_and_a_killed_one_resumes_only_its_guilds(
    fake_discord: FakeDiscord, media: MediaServer, tmp_path: Path
) -> None:
    async with postgres_schema() as database_url:
        guilds = [add_guild_on_shard(fake_discord, shard_id) for shard_id in range(SHARDS)]
        members = [Member(fake_discord, g, g.member("alice")) for g in guilds]
        recorders = [fake_discord.voice_log(g) for g in guilds]
        workdirs = [tmp_path / f"shard{i}" for i in range(SHARDS)]
        for shard_id, workdir in enumerate(workdirs):
            write_shard_credentials(workdir, database_url, shard_id)

        async with (
            brent_process(fake_discord, workdirs[0], "first") as first,
            brent_process(fake_discord, workdirs[1], "other") as other,
        ):
            await fake_discord.wait_until(
                lambda: set(sessions_by_shard(fake_discord)) == {0, 1}, 40, "one session per shard"
            )
            started = []
            for member in members:
                await member.join_voice()
                command, _ = await member.ask(f"play {media.url('clock60.mp3')}", "Playing", timeout=40)
                started.append(command)
            for recorder, command in zip(recorders, started, strict=True):
                await recorder.wait_for_audio(3.0, timeout=30, after=command.sent_at)
            for guild, command in zip(guilds, started, strict=True):
                answers = [
                    m
                    for m in fake_discord.bot_messages(guild.text_channel, after=command)
                    if m["content"].startswith("Playing")
                ]
                assert len(answers) == 1, answers  # one process answered, not both
            for workdir in workdirs:  # each process is healthy over its own shard's websocket
                code, line = await health(workdir, workdir / "credentials.env")
                assert code == 0 and line.startswith("healthy: connected to Discord (1 servers, 1 in voice"), line
            for shard_id, guild in enumerate(guilds):
                requests = voice_requests(fake_discord, guild)
                assert requests and {tuple(shard or ()) for _, shard in requests} == {(shard_id, SHARDS)}

            other_requests = voice_requests(fake_discord, guilds[1])
            first.kill()
            assert await first.wait() == -9
            killed_at = time.perf_counter()
            # The other process's guild plays on while its neighbour is down...
            await recorders[1].wait_for_audio(4.0, timeout=20, after=killed_at)
            last_heard = heard_seconds(clock_runs(recorders[0].pcm(after=started[0].sent_at)))[-1]

            async with brent_process(fake_discord, workdirs[0], "restarted") as restarted:
                await fake_discord.wait_until(
                    lambda: len(sessions_by_shard(fake_discord).get(0, [])) == 2,
                    40,
                    "shard 0 identified again",
                )
                # ...and the killed one's guild comes back by itself, near where it was.
                await recorders[0].wait_for_audio(3.0, timeout=40, after=killed_at)
                resumed = heard_seconds(clock_runs(recorders[0].pcm(after=killed_at)))
                assert resumed and last_heard - CHECKPOINT_INTERVAL - 1 <= resumed[0] <= last_heard, (
                    last_heard,
                    resumed,
                )
                await recorders[1].wait_for_audio(8.0, timeout=20, after=killed_at)
                after_restart = heard_seconds(clock_runs(recorders[1].pcm(after=killed_at)))
                assert after_restart == list(range(after_restart[0], after_restart[0] + len(after_restart)))
                # The restart never touched the other guild: no voice request, its saved state kept.
                assert voice_requests(fake_discord, guilds[1]) == other_requests
                store = await open_store(database_url, workdirs[0] / "data")
                try:
                    kept = await store.load_state(guilds[1].id)
                finally:
                    await store.close()
                assert kept is not None and kept.current is not None and kept.current.title == "clock60"
                restarted.terminate()
                assert await asyncio.wait_for(restarted.wait(), 20) == 0
            other.terminate()
            assert await asyncio.wait_for(other.wait(), 20) == 0

        restart_log = logs_of(workdirs[0], "restarted")
        assert f"Restoring the player state of 1 guild(s) on shard(s) 0 of {SHARDS}" in restart_log
        assert f"guild {guilds[0].id}: restore resumed" in restart_log
        assert str(guilds[1].id) not in restart_log
