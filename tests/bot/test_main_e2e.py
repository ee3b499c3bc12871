"""The real ``python main.py`` against the loopback fake Discord: start, play, SIGTERM, clean exit."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psutil
import pytest

from tests.fakediscord import FakeDiscord, FakeGuild
from tests.media import MediaServer, generate_tone, media_server

PROJECT = Path(__file__).resolve().parents[2]
FAKE_TOKEN = "MTA1NjQ4OTk5OTk5OTk5OTk5OQ.GabcDE.abcdefghijklmnopqrstuvwxyz0123456789AB"

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


@pytest.fixture
def tone_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MediaServer]:
    root = tmp_path_factory.mktemp("media")
    generate_tone(root / "tone440.mp3", 440, 20)
    with media_server(root) as server:
        yield server


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as server:
        yield server


def bot_env(fake: FakeDiscord, tmp_path: Path) -> dict[str, str]:
    base = {key: value for key, value in os.environ.items() if key in {"PATH", "LANG", "LC_ALL"}}
    base.update(HOME=str(tmp_path), PYTHONDONTWRITEBYTECODE="1")
    return fake.subprocess_env(base)


def ffmpeg_children(pid: int) -> list[psutil.Process]:
    try:
        return [p for p in psutil.Process(pid).children(recursive=True) if "ffmpeg" in p.name()]
    except psutil.NoSuchProcess:
        return []


async def test_main_py_plays_and_sigterm_leaves_no_ffmpeg_behind(
    fake: FakeDiscord, tone_server: MediaServer, tmp_path: Path
) -> None:
    guild: FakeGuild = fake.add_guild("Guild A", voice_channels=("Music",), members=("alice",))
    env_file = tmp_path / "credentials.env"
    env_file.write_text(
        f"CLIENT_TOKEN={FAKE_TOKEN}\nALLOW_PRIVATE_NETWORK=1\nALLOWED_PROVIDERS=direct\nLOG_LEVEL=INFO\n"
    )
    env_file.chmod(0o600)
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(PROJECT / "main.py"), "--env-file", str(env_file), cwd=tmp_path,
        env={**bot_env(fake, tmp_path), "CLIENT_TOKEN": FAKE_TOKEN}, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    ffmpeg_seen: list[psutil.Process] = []
    try:
        await fake.wait_for_ready(timeout=30)
        alice = guild.member("alice")
        await fake.member_join_voice(guild, alice, guild.voice_channel)
        await fake.inject_message(guild, guild.text_channel, alice, f"\\play {tone_server.url('tone440.mp3')}")
        await fake.voice_log(guild).wait_for_audio(1.0, timeout=30)
        ffmpeg_seen = ffmpeg_children(process.pid)
        assert ffmpeg_seen, "the bot should be playing through ffmpeg"
        if sys.platform.startswith("linux"):  # ffmpeg's stderr (fd 2) is the bot's log pipe, not its stderr
            bot_fds = {os.readlink(f"/proc/{process.pid}/fd/{fd}") for fd in os.listdir(f"/proc/{process.pid}/fd")}
            stderr_ends = {os.readlink(f"/proc/{p.pid}/fd/2") for p in ffmpeg_seen}
            assert len(stderr_ends) == 1 and next(iter(stderr_ends)).startswith("pipe:"), stderr_ends
            assert stderr_ends <= bot_fds  # a pipe of the bot's own (its log reader drains it)
            assert stderr_ends != {os.readlink(f"/proc/{process.pid}/fd/2")}
            # The token given in the environment is not inherited by any child (ffmpeg, lookup workers).
            children = psutil.Process(process.pid).children(recursive=True)
            assert children
            for child in children:
                environ = Path(f"/proc/{child.pid}/environ").read_bytes()
                assert FAKE_TOKEN.encode() not in environ, child.cmdline()

        # Failing commands that carry the token (a member pasting it) must not echo it anywhere.
        for command in (f"\\seek {FAKE_TOKEN}", f"\\volume {FAKE_TOKEN}", f"\\loop {FAKE_TOKEN}"):
            sent = await fake.inject_message(guild, guild.text_channel, alice, command)
            await fake.wait_for_message(guild.text_channel, "", 15, after=sent)

        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    text = stderr.decode()
    assert process.returncode == 0, text[-3000:]
    assert "received SIGTERM" in text and "BRENT stopped" in text
    assert "Traceback" not in text
    assert FAKE_TOKEN not in text
    assert not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in ffmpeg_seen)
    await fake.wait_for_bot_voice(guild, None, timeout=10)
    for log_file in (tmp_path / "logs").iterdir():
        assert FAKE_TOKEN not in log_file.read_text(encoding="utf-8", errors="replace"), log_file
    replies = fake.bot_messages(guild.text_channel)
    assert len(replies) >= 4
    for reply in replies:
        assert FAKE_TOKEN[:24] not in str(reply), reply  # not even its first part
