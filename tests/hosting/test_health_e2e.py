"""``python main.py --health`` against a real ``python main.py`` on the loopback Discord.

Each ``--health`` is its own process, as the container's HEALTHCHECK and ``bin/service status`` run
it. Waits for a change are bounded polls of that command: no event reaches the test from the bot.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from tests.bot.test_main_e2e import FAKE_TOKEN, PROJECT, bot_env
from tests.fakediscord import FakeDiscord
from tests.hosting.health_cli import health
from tests.media import MediaServer, generate_tone, media_server
from tests.store.conftest import postgres_schema

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the health socket is a Unix socket")


@pytest.fixture
def tone_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MediaServer]:
    root = tmp_path_factory.mktemp("media")
    generate_tone(root / "tone.mp3", 440, 30)
    with media_server(root) as server:
        yield server


def write_env(tmp_path: Path, *extra: str) -> Path:
    env_file = tmp_path / "credentials.env"
    lines = (f"CLIENT_TOKEN={FAKE_TOKEN}", "ALLOW_PRIVATE_NETWORK=1", "ALLOWED_PROVIDERS=direct", *extra)
    env_file.write_text("\n".join(lines) + "\n")
    env_file.chmod(0o600)
    return env_file


async def health_until(
    tmp_path: Path, env_file: Path, wanted: Callable[[int, str], bool], timeout: float
) -> tuple[int, str]:
    deadline = time.monotonic() + timeout
    code, line = await health(tmp_path, env_file)
    while not wanted(code, line) and time.monotonic() < deadline:
        code, line = await health(tmp_path, env_file)
    assert wanted(code, line), f"--health still says: {code} {line!r}"
    return code, line


@contextlib.asynccontextmanager
async def running_bot(
    fake: FakeDiscord, tmp_path: Path, env_file: Path
) -> AsyncIterator[asyncio.subprocess.Process]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(PROJECT / "main.py"),
        "--env-file",
        str(env_file),
        cwd=tmp_path,
        env=bot_env(fake, tmp_path),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


def is_healthy(code: int, line: str) -> bool:
    return code == 0


async def test_health_says_whether_the_bot_runs_and_is_connected(
    tone_server: MediaServer, tmp_path: Path
) -> None:
    env_file = write_env(tmp_path)
    code, line = await health(tmp_path, env_file)
    assert (code, line.strip()) == (1, "unhealthy: BRENT is not running (no data/brent.sock)")

    fake = FakeDiscord()
    await asyncio.to_thread(fake.start)
    stopped = False
    try:
        guild = fake.add_guild("Guild A", voice_channels=("Music",), members=("alice",))
        async with running_bot(fake, tmp_path, env_file) as bot:
            await fake.wait_for_ready(timeout=30)
            code, line = await health_until(tmp_path, env_file, is_healthy, timeout=30)
            assert line.startswith("healthy: connected to Discord (1 servers, 0 in voice"), line
            assert line.rstrip().endswith(" ms"), line
            assert (tmp_path / "data" / "brent.sock").stat().st_mode & 0o777 == 0o600

            alice = guild.member("alice")
            await fake.member_join_voice(guild, alice, guild.voice_channel)
            await fake.inject_message(
                guild, guild.text_channel, alice, f"\\play {tone_server.url('tone.mp3')}"
            )
            await fake.voice_log(guild).wait_for_audio(1.0, timeout=30)
            code, line = await health(tmp_path, env_file)  # the voice clocks run now and are checked
            assert code == 0 and "1 in voice" in line, line

            stopped = True
            await asyncio.to_thread(fake.stop)  # Discord goes away; the bot keeps trying to reconnect
            code, line = await health_until(tmp_path, env_file, lambda c, _: c != 0, timeout=30)
            assert (code, line.strip()) == (
                1,
                "unhealthy: disconnected from the Discord gateway (reconnecting)",
            )

            bot.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(bot.wait(), timeout=30) == 0
    finally:
        if not stopped:
            await asyncio.to_thread(fake.stop)
    code, line = await health(tmp_path, env_file)
    assert (code, line.strip()) == (1, "unhealthy: BRENT is not running (no data/brent.sock)")


class Relay:
    """A TCP relay on 127.0.0.1 to the test database, which the test can cut like a network failure."""

    def __init__(self, host: str, port: int) -> None:
        self._target = (host, port)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        return int(self._server.sockets[0].getsockname()[1])

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self._target)
        self._writers |= {writer, up_writer}

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    async def cut(self) -> None:
        """No new connections, and every open one closed."""
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.transport.abort()
        await self._server.wait_closed()


async def test_health_fails_when_the_store_stops_answering(tmp_path: Path) -> None:
    from urllib.parse import urlsplit

    async with postgres_schema() as url:
        parts = urlsplit(url)
        assert parts.hostname is not None and parts.port is not None
        relay = Relay(parts.hostname, parts.port)
        port = await relay.start()
        relayed = parts._replace(netloc=f"{parts.netloc.rsplit('@', 1)[0]}@127.0.0.1:{port}").geturl()
        env_file = write_env(tmp_path, f"DATABASE_URL={relayed}")
        async with FakeDiscord() as fake, running_bot(fake, tmp_path, env_file):
            fake.add_guild("Guild A", voice_channels=("Music",), members=("alice",))
            await fake.wait_for_ready(timeout=30)
            code, line = await health_until(tmp_path, env_file, is_healthy, timeout=30)
            assert "store answered in" in line, line
            await relay.cut()
            code, line = await health_until(tmp_path, env_file, lambda c, _: c != 0, timeout=30)
            assert line.startswith("unhealthy: the store "), line
