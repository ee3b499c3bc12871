from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

PROJECT = Path(__file__).resolve().parents[2]
HARNESS = Path(__file__).with_name("main_harness.py")
FAKE_TOKEN = "MTA1NjQ4OTk5OTk5OTk5OTk5OQ.GabcDE.abcdefghijklmnopqrstuvwxyz0123456789AB"


def child_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A clean environment: no real token or settings leak in from the developer's shell."""
    env = {key: value for key, value in os.environ.items() if key in {"PATH", "LANG", "LC_ALL", "SYSTEMROOT"}}
    env.update(HOME=str(tmp_path), PYTHONDONTWRITEBYTECODE="1", **extra)
    return env


def write_env(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    path = tmp_path / "credentials.env"
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def run_harness(tmp_path: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(HARNESS), *args], cwd=tmp_path, env=child_env(tmp_path, **extra),
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )


def test_empty_env_file_exits_2_with_the_token_paragraph_before_any_network(tmp_path: Path) -> None:
    env_file = write_env(tmp_path, "")
    done = run_harness(tmp_path, "--env-file", str(env_file))
    assert done.returncode == 2, done.stderr
    assert "NETWORK ATTEMPT" not in done.stderr
    assert "Traceback" not in done.stderr
    assert "CLIENT_TOKEN is not set" in done.stderr
    assert "Developer Portal" in done.stderr and "Reset Token" in done.stderr
    assert "MESSAGE CONTENT" in done.stderr and "SERVER MEMBERS" in done.stderr
    assert not (tmp_path / "logs").exists()  # it stopped before even configuring logging


def test_plain_main_py_without_any_credentials_file(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(PROJECT / "main.py")], cwd=tmp_path, env=child_env(tmp_path),
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "CLIENT_TOKEN is not set" in done.stderr


def test_malformed_token_exits_2_without_echoing_it(tmp_path: Path) -> None:
    env_file = write_env(tmp_path, "CLIENT_TOKEN=your-token-here\n")
    done = run_harness(tmp_path, "--env-file", str(env_file))
    assert done.returncode == 2
    assert "does not look like a Discord bot token" in done.stderr
    assert "your-token-here" not in done.stderr
    assert "Traceback" not in done.stderr and "NETWORK ATTEMPT" not in done.stderr


def test_bad_setting_exits_2_with_one_line(tmp_path: Path) -> None:
    env_file = write_env(tmp_path, f"CLIENT_TOKEN={FAKE_TOKEN}\nIDLE_TIMEOUT=soon\n")
    done = run_harness(tmp_path, "--env-file", str(env_file))
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == ["brent: IDLE_TIMEOUT must be a number of seconds, e.g. 300"]
    assert FAKE_TOKEN not in done.stderr


def test_check_passes_on_this_machine_without_a_token(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(PROJECT / "main.py"), "--check"], cwd=tmp_path, env=child_env(tmp_path),
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = {line.split()[1]: line.split()[0] for line in done.stdout.splitlines() if line[:4].strip() in {"OK", "WARN", "FAIL"}}
    for name in ("python", "discord.py", "davey", "PyNaCl", "ffmpeg", "libopus", "yt-dlp", "settings"):
        assert lines.get(name) == "OK", done.stdout
    assert lines["token"] == "WARN"
    assert "FAIL" not in lines.values()
    assert "ffmpeg version" in done.stdout
    assert "Traceback" not in done.stderr


def test_check_reports_a_readable_credentials_file_and_a_bad_setting(tmp_path: Path) -> None:
    env_file = write_env(tmp_path, f"CLIENT_TOKEN={FAKE_TOKEN}\nDEFAULT_VOLUME=900\n", mode=0o644)
    done = run_harness(tmp_path, "--check", "--env-file", str(env_file))
    assert done.returncode == 1
    assert "NETWORK ATTEMPT" not in done.stderr
    assert f"chmod 600 {env_file}" in done.stdout
    assert "FAIL settings     DEFAULT_VOLUME must be between 0 and 200" in done.stdout
    assert "OK   token" in done.stdout
    assert FAKE_TOKEN not in done.stdout + done.stderr


class FakeDiscordRest:
    """Just enough of Discord's REST API on 127.0.0.1 to watch a login attempt."""

    def __init__(self, *, refuse: bool) -> None:
        self.refuse = refuse
        self.login_seen = asyncio.Event()
        self.release = asyncio.Event()
        self.auth_headers: list[str] = []

    async def users_me(self, request: web.Request) -> web.Response:
        self.auth_headers.append(request.headers.get("Authorization", ""))
        self.login_seen.set()
        if self.refuse:
            return web.Response(status=401, text='{"message": "401: Unauthorized", "code": 0}',
                                content_type="application/json")
        await self.release.wait()  # hold the login open until the test is done with it
        return web.Response(status=503)


@pytest.fixture
async def rest(request: pytest.FixtureRequest) -> AsyncIterator[tuple[FakeDiscordRest, str]]:
    fake = FakeDiscordRest(refuse=request.param)
    app = web.Application()
    app.router.add_get("/api/v10/users/@me", fake.users_me)
    runner = web.AppRunner(app, shutdown_timeout=1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield fake, f"http://127.0.0.1:{port}/api/v10"
    fake.release.set()
    await runner.cleanup()


async def start_harness(
    tmp_path: Path, base: str, mode: int = 0o600, **extra_env: str
) -> asyncio.subprocess.Process:
    env_file = write_env(tmp_path, f"CLIENT_TOKEN={FAKE_TOKEN}\n", mode)
    return await asyncio.create_subprocess_exec(
        sys.executable, str(HARNESS), "--env-file", str(env_file), cwd=tmp_path,
        env=child_env(tmp_path, BRENT_TEST_API_BASE=base, **extra_env),
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )


@pytest.mark.parametrize("rest", [True], indirect=True)
async def test_token_refused_by_discord_exits_2(tmp_path: Path, rest: tuple[FakeDiscordRest, str]) -> None:
    fake, base = rest
    other = FAKE_TOKEN[:-1] + "C"  # a stale exported token beats the file: say so
    process = await start_harness(tmp_path, base, mode=0o644, CLIENT_TOKEN=other)
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    text = stderr.decode()
    assert process.returncode == 2, text
    assert fake.auth_headers == [f"Bot {other}"]
    assert "CLIENT_TOKEN is set both in the environment and in" in text
    assert "Discord refused the token" in text and "Reset Token" in text
    assert "Traceback" not in text and "NETWORK ATTEMPT" not in text
    log_text = (tmp_path / "logs" / "brent.log").read_text(encoding="utf-8")
    for token in (FAKE_TOKEN, other):
        assert token not in text and token not in log_text
    assert f"chmod 600 {tmp_path / 'credentials.env'}" in text  # the start-up permission warning


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("rest", [False], indirect=True)
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_signal_during_login_shuts_down_cleanly(
    tmp_path: Path, rest: tuple[FakeDiscordRest, str], sig: signal.Signals
) -> None:
    fake, base = rest
    process = await start_harness(tmp_path, base, LOG_LEVEL="INFO")
    try:
        await asyncio.wait_for(fake.login_seen.wait(), timeout=60)
        process.send_signal(sig)
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    text = stderr.decode()
    assert process.returncode == 0, text
    assert f"received {sig.name}" in text
    assert "shutting down" in text and "BRENT stopped" in text
    assert "starting BRENT: discord.py 2.7.1, ffmpeg version" in text
    assert "Traceback" not in text and "NETWORK ATTEMPT" not in text


def test_the_harness_guard_stops_non_loopback_lookups(tmp_path: Path) -> None:
    # .invalid never resolves, and the hook exits before the lookup is even made.
    code = (
        f"import sys; sys.path.insert(0, {str(HARNESS.parent)!r}); import main_harness, socket; "
        "sys.addaudithook(main_harness._guard); socket.getaddrinfo('127.0.0.1', 80); "
        "socket.getaddrinfo('brent-test.invalid', 80)"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=child_env(tmp_path),
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 99
    assert "NETWORK ATTEMPT socket.getaddrinfo brent-test.invalid" in done.stderr
