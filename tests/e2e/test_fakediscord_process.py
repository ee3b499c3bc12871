"""Self-tests of the loopback Discord with a real, unmodified bot process (sitecustomize redirection)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.e2e.minimal_bot import play_in
from tests.fakediscord import (
    FakeDiscord,
    FakeGuild,
)
from tests.media import MediaServer

SHORT_SECONDS = 1.5

pytestmark = pytest.mark.e2e


# --- the real-process path ------------------------------------------------------------------------------

SUBPROCESS_BOT = textwrap.dedent(
    """
    import asyncio, sys
    import discord
    from discord.ext import commands

    intents = discord.Intents.default()
    intents.message_content = True
    bot = commands.Bot(command_prefix="!", intents=intents, guild_ready_timeout=0.1)

    @bot.event
    async def on_ready():
        print("READY", bot.user.id, flush=True)

    @bot.command()
    async def play(ctx, url):
        voice = await ctx.author.voice.channel.connect()
        voice.play(discord.FFmpegPCMAudio(url, before_options="-nostdin", options="-vn"),
                   after=lambda e: bot.loop.call_soon_threadsafe(bot.loop.create_task, bot.close()))
        await ctx.send("playing")

    bot.run(sys.argv[1], log_handler=None)
    """
)


async def test_unmodified_bot_process_is_redirected_by_sitecustomize(
    fake_discord: FakeDiscord, fake_guild: FakeGuild, e2e_media: MediaServer, tmp_path: Path
) -> None:
    """No connector, no patching in the bot: PYTHONPATH's sitecustomize and SSL_CERT_FILE do it all."""
    script = tmp_path / "bot_process.py"
    script.write_text(SUBPROCESS_BOT)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(script),
        "made.up.token",
        env=fake_discord.subprocess_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 20)
        assert line.decode().split() == ["READY", str(fake_discord.bot_user.id)]
        await play_in(fake_discord, fake_guild, e2e_media.url("short1.mp3"))
        rec = fake_discord.voice_log(fake_guild)
        await rec.wait_for_silence(timeout=15)
        _, stderr = await asyncio.wait_for(proc.communicate(), 20)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, stderr.decode()[-2000:]
    assert rec.errors == []
    assert rec.dominant_frequency() == pytest.approx(500, abs=1.0)
    assert abs(rec.audio_seconds() - SHORT_SECONDS) <= 0.1


def test_sitecustomize_refuses_non_loopback_urls(tmp_path: Path) -> None:
    from tests.fakediscord import SITECUSTOMIZE_DIR

    env = {
        "PYTHONPATH": str(SITECUSTOMIZE_DIR),
        "BRENT_FAKE_REST": "https://discord.com",
        "BRENT_FAKE_GATEWAY": "ws://127.0.0.1:1/",
        "PATH": "/usr/bin:/bin",
    }
    result = subprocess.run(
        [sys.executable, "-c", "print('ran')"], env=env, capture_output=True, text=True, timeout=30
    )
    assert result.returncode != 0
    assert "refusing non-loopback" in result.stderr
    assert "ran" not in result.stdout
