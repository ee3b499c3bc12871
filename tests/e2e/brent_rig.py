"""The pieces every end-to-end test shares to run the real BRENT against the loopback Discord.

A :class:`Member` types commands in a fake guild; ``add_music_guild`` makes the usual guild; the
``start_brent`` fixture (tests/e2e/conftest.py) runs ``create_bot`` with every cog under these
settings; :data:`MAIN_PY` and :data:`MADE_UP_TOKEN` are for the tests that start the shipped entry
point as a process (``brent_process`` in a folder ``write_credentials`` filled); ``player_ffmpeg`` tells the players' ffmpeg processes from the standby's.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import psutil

from bot.bot import BrentBot
from tests.fakediscord import FakeDiscord, FakeGuild, FakeUser, InjectedMessage

PREFIX = "\\"
DJ_ROLE = "DJ"
MAIN_PY = Path(__file__).resolve().parents[2] / "main.py"
MADE_UP_TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GabcDE.abcdefghijklmnopqrstuvwxyz0123456789AB"

StartBrent = Callable[..., AbstractAsyncContextManager[BrentBot]]


@dataclasses.dataclass
class Member:
    """A member in a fake guild who types commands in its first text channel."""

    fake: FakeDiscord
    guild: FakeGuild
    user: FakeUser

    async def join_voice(self, channel_name: str | None = None) -> None:
        channel = self.guild.channel(channel_name) if channel_name else self.guild.voice_channel
        await self.fake.member_join_voice(self.guild, self.user, channel)

    async def leave_voice(self) -> None:
        await self.fake.member_leave_voice(self.guild, self.user)

    async def say(self, command: str) -> InjectedMessage:
        return await self.fake.inject_message(
            self.guild, self.guild.text_channel, self.user, PREFIX + command
        )

    async def ask(
        self, command: str, expect: str, timeout: float = 15.0
    ) -> tuple[InjectedMessage, dict[str, Any]]:
        """Type a command and wait for the bot's answer containing ``expect``."""
        sent = await self.say(command)
        reply = await self.fake.wait_for_message(self.guild.text_channel, expect, timeout, after=sent)
        return sent, reply

    async def play_and_hear(self, url: str, seconds: float) -> InjectedMessage:
        """Join voice, play ``url`` and wait until ``seconds`` of it were heard; returns the play command."""
        await self.join_voice()
        started, _ = await self.ask(f"play {url}", "Playing")
        await self.fake.voice_log(self.guild).wait_for_audio(seconds, after=started.sent_at)
        return started


def add_music_guild(fake: FakeDiscord, name: str = "Brent Guild") -> FakeGuild:
    """#general, voice Music and Lounge; alice has the DJ role, bob does not."""
    return fake.add_guild(
        name,
        voice_channels=("Music", "Lounge"),
        members=("alice", "bob"),
        roles={DJ_ROLE: 0},
        member_roles={"alice": (DJ_ROLE,)},
    )


def ffmpeg_children() -> list[psutil.Process]:
    """ffmpeg processes started by this test process (the bot runs in it)."""
    found = []
    for child in psutil.Process().children(recursive=True):
        try:
            if "ffmpeg" in child.name() and child.status() != psutil.STATUS_ZOMBIE:
                found.append(child)
        except psutil.NoSuchProcess:
            continue
    return found


def player_ffmpeg(bot: BrentBot) -> list[psutil.Process]:
    """The players' ffmpeg processes: all of ours except those waiting, unused, in the bot's standby."""
    children = ffmpeg_children()  # first: a standby taken after this counts as the player's
    waiting = bot.ffmpeg_standby.pids if bot.ffmpeg_standby is not None else frozenset()
    return [child for child in children if child.pid not in waiting]


def write_credentials(workdir: Path, database_url: str | None = None) -> None:
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "credentials.env").write_text(
        f"CLIENT_TOKEN={MADE_UP_TOKEN}\nCOMMAND_PREFIX={PREFIX}\nALLOW_PRIVATE_NETWORK=1\n"
        f"DATA_DIR={workdir / 'data'}\nLOG_LEVEL=INFO\n"
        + (f"DATABASE_URL={database_url}\n" if database_url else "")
    )
    (workdir / "credentials.env").chmod(0o600)


@asynccontextmanager
async def brent_process(fake: FakeDiscord, workdir: Path, name: str) -> AsyncIterator[asyncio.subprocess.Process]:
    """``python main.py`` in ``workdir``; whatever the test did to it, it is gone afterwards."""
    env = fake.subprocess_env()
    env.pop("CLIENT_TOKEN", None)
    with (workdir / f"{name}.out").open("wb") as out, (workdir / f"{name}.err").open("wb") as err:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, str(MAIN_PY), cwd=workdir, env=env, stdout=out, stderr=err
        )
        try:
            yield proc
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
