"""The health socket, its client and the probe's three checks, each against the real thing."""

from __future__ import annotations

import asyncio
import math
import socket
import sys
import threading
import time
from pathlib import Path

import pytest

from audio.voice_clock import VoiceClocks
from bot.bot import create_bot
from bot.health import server as health_server
from bot.health.client import ask
from bot.health.probe import NO_STORE, clock_problem, gateway_problem, store_problem
from bot.health.report import HealthReport
from bot.health.server import HealthServer
from bot.settings import Settings
from bot.store import open_store

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the health socket is a Unix socket")

HEALTHY = HealthReport(True, "all good")


async def healthy() -> HealthReport:
    return HEALTHY


async def test_the_socket_answers_with_the_report_and_only_its_user_may_ask(tmp_path: Path) -> None:
    path = tmp_path / "data" / "brent.sock"
    server = await HealthServer.open(path, healthy)
    assert server is not None
    assert path.stat().st_mode & 0o777 == 0o600
    assert await asyncio.to_thread(ask, path) == HEALTHY
    await server.close()
    assert not path.exists()
    assert await asyncio.to_thread(ask, path) == HealthReport(False, f"BRENT is not running (no {path})")


async def test_a_socket_left_by_a_crash_is_reported_then_replaced(tmp_path: Path) -> None:
    path = tmp_path / "brent.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as left:
        left.bind(str(path))  # bound, never listening, then closed: what a killed process leaves
    report = await asyncio.to_thread(ask, path)
    assert report == HealthReport(False, f"BRENT is not running ({path} is left from an earlier run)")
    server = await HealthServer.open(path, healthy)
    assert server is not None
    assert await asyncio.to_thread(ask, path) == HEALTHY
    await server.close()


async def test_a_second_bot_on_the_same_data_folder_leaves_the_first_ones_socket(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "brent.sock"
    first = await HealthServer.open(path, healthy)
    assert first is not None
    assert await HealthServer.open(path, lambda: healthy()) is None
    assert "another BRENT answers" in caplog.text
    assert await asyncio.to_thread(ask, path) == HEALTHY
    await first.close()


async def test_closing_leaves_a_newer_instances_socket(tmp_path: Path) -> None:
    path = tmp_path / "brent.sock"
    old = await HealthServer.open(path, healthy)
    assert old is not None
    path.unlink()
    newer = await HealthServer.open(path, healthy)
    assert newer is not None
    await old.close()
    assert await asyncio.to_thread(ask, path) == HEALTHY
    await newer.close()


async def test_a_path_too_long_for_a_unix_socket_only_turns_health_off(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / ("d" * 120) / "brent.sock"
    assert await HealthServer.open(path, healthy) is None
    assert "`main.py --health` is unavailable" in caplog.text


async def test_a_check_that_fails_or_hangs_is_answered_as_unhealthy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken() -> HealthReport:
        raise RuntimeError("boom")

    never = asyncio.Event()

    async def hanging() -> HealthReport:
        await never.wait()
        return HEALTHY

    path = tmp_path / "brent.sock"
    server = await HealthServer.open(path, broken)
    assert server is not None
    report = await asyncio.to_thread(ask, path)
    assert report == HealthReport(False, "the health check itself failed (logged in logs/brent.log)")
    await server.close()

    monkeypatch.setattr(health_server, "ANSWER_TIMEOUT", 0.2)
    server = await HealthServer.open(path, hanging)
    assert server is not None
    assert await asyncio.to_thread(ask, path) == HealthReport(False, "the health check took longer than 0 s")
    await server.close()


async def test_the_client_gives_up_on_a_bot_that_never_answers(tmp_path: Path) -> None:
    release = asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await release.wait()
        writer.close()

    path = tmp_path / "brent.sock"
    server = await asyncio.start_unix_server(silent, path=str(path))
    try:
        report = await asyncio.to_thread(ask, path, 0.3)
    finally:
        release.set()
        server.close()
        await server.wait_closed()
    assert report == HealthReport(False, "BRENT did not answer within 0 s (busy or stuck)")


@pytest.mark.parametrize("answer", [b"", b"maybe fine\n", b"ok\n", b"\xff\xfe"])
def test_an_unreadable_answer_is_a_failure(answer: bytes) -> None:
    assert HealthReport.decode(answer) == HealthReport(False, "the bot's health answer was unreadable")


def test_the_wire_line_is_one_line_whatever_the_text() -> None:
    report = HealthReport(False, "two\nlines\r\nand   spaces")
    assert report.encode() == b"fail two lines and spaces\n"
    assert HealthReport.decode(report.encode()) == HealthReport(False, "two lines and spaces")


class HungPlayer:
    """A player whose send never returns, as one blocked on a dead socket would."""

    def __init__(self) -> None:
        self.due = time.perf_counter()
        self.entered = threading.Event()
        self.release = threading.Event()

    def encode_at(self, complexity: int) -> None:
        pass  # sends nothing a clock's load would tune

    def send_due(self, now: float) -> bool:
        self.entered.set()
        self.release.wait(30)
        return False


def test_clocks_that_run_are_healthy_and_a_stopped_or_stuck_one_is_not() -> None:
    assert clock_problem(None, time.perf_counter()) is None  # before the first play no clock runs
    clocks = VoiceClocks(count=2)
    assert clock_problem(clocks, time.perf_counter()) is None

    hung = HungPlayer()
    clocks.pick().add(hung)  # type: ignore[arg-type]
    assert hung.entered.wait(10)
    try:
        assert clocks.lag(hung.due + 1.0) == pytest.approx(1.0)
        assert clock_problem(clocks, hung.due + 1.0) is None
        assert clock_problem(clocks, hung.due + 6.0) == "a voice clock is stuck: its next packet is 6 s late"
    finally:
        hung.release.set()
    clocks.close()
    assert math.isinf(clocks.lag(time.perf_counter()))
    assert clock_problem(clocks, time.perf_counter()) == (
        "a voice clock thread has stopped: the voice connections it served send nothing"
    )


async def test_the_store_must_answer_a_read(tmp_path: Path) -> None:
    assert await store_problem(None) == (NO_STORE, 0.0)
    store = await open_store(None, tmp_path)
    problem, took_ms = await store_problem(store)
    assert problem is None and 0 <= took_ms < 5000
    await store.close()
    problem, _ = await store_problem(store)
    assert problem is not None and problem.startswith("the store does not answer (")


async def test_a_bot_that_has_not_logged_in_is_not_connected() -> None:
    bot = create_bot(Settings())
    assert gateway_problem(bot) == "not connected to the Discord gateway yet (logging in)"
    await bot.close()
    assert gateway_problem(bot) == "shutting down"
