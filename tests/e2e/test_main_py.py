"""The shipped main.py as its own process with a made-up token: ready, playing, and a clean stop on SIGTERM."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import psutil
import pytest

from tests.e2e.brent_rig import DJ_ROLE, MADE_UP_TOKEN, MAIN_PY, PREFIX, Member
from tests.e2e.conftest import TONE_SECONDS
from tests.fakediscord import FakeDiscord
from tests.media import MediaServer

pytestmark = pytest.mark.e2e


@pytest.mark.skipif(not MAIN_PY.exists(), reason="main.py is not written yet")
async def test_real_main_py_process_reaches_ready_and_plays(
    fake_discord: FakeDiscord, alice: Member, e2e_media: MediaServer, tmp_path: Path
) -> None:
    """The shipped entry point, unmodified, with a made-up token in credentials.env.

    Only the environment differs from a real start: sitecustomize on PYTHONPATH points discord.py
    at the fake and SSL_CERT_FILE makes the voice wss:// trust the fake's test CA.
    """
    workdir = tmp_path / "brent"
    workdir.mkdir()
    (workdir / "credentials.env").write_text(
        f"CLIENT_TOKEN={MADE_UP_TOKEN}\nCOMMAND_PREFIX={PREFIX}\nALLOW_PRIVATE_NETWORK=1\n"
        f"DATA_DIR={workdir / 'data'}\nDJ_ROLE={DJ_ROLE}\nLOG_LEVEL=INFO\n"
    )
    (workdir / "credentials.env").chmod(0o600)
    env = fake_discord.subprocess_env()
    env.pop("CLIENT_TOKEN", None)
    out = (workdir / "stdout.log").open("wb")
    err = (workdir / "stderr.log").open("wb")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(MAIN_PY), cwd=workdir, env=env, stdout=out, stderr=err
    )
    recorder = fake_discord.voice_log(alice.guild)
    try:
        await fake_discord.wait_for_ready(timeout=30)
        identify = next(op for op in fake_discord.gateway_log if op.op == 2)
        assert identify.d["token"] == MADE_UP_TOKEN
        await alice.join_voice()
        sent, reply = await alice.ask(f"play {e2e_media.url('tone440.mp3')}", "Playing", timeout=30)
        assert "tone440" in reply["content"]
        await recorder.wait_for_silence(timeout=20, after=sent.sent_at)
        # Stop it mid-track the way a service manager does: SIGTERM, then an orderly close.
        long_play, _ = await alice.ask(f"play {e2e_media.url('tone880.mp3')}", "Playing", timeout=30)
        await recorder.wait_for_audio(0.3, after=long_play.sent_at)
        children = [c for c in psutil.Process(proc.pid).children(recursive=True) if "ffmpeg" in c.name()]
        assert children, "the bot process should be running ffmpeg while playing"
        proc.terminate()
        assert await asyncio.wait_for(proc.wait(), 20) == 0
        assert fake_discord.bot_voice_channel(alice.guild) is None
        assert not any(c.is_running() and c.status() != psutil.STATUS_ZOMBIE for c in children)
    finally:
        if proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 15)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        out.close()
        err.close()
    logs = (workdir / "stdout.log").read_text(errors="replace") + (workdir / "stderr.log").read_text(
        errors="replace"
    )
    assert MADE_UP_TOKEN not in logs
    assert recorder.errors == []
    assert recorder.dominant_frequency(0, TONE_SECONDS) == pytest.approx(440, abs=1.0)
    assert recorder.dominant_frequency(after=long_play.sent_at) == pytest.approx(880, abs=1.0)
