"""A first ``play`` finds everything built: the bot warms up before it identifies (goes online).

What is checked is the state at the moment discord.py is about to send IDENTIFY (its
``before_identify_hook``), with the real worker processes, the real standby ffmpeg and the real
egress gate: a warm-up that ran after that moment, or lazily inside the first play, fails here.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from pathlib import Path

import psutil
import pytest

from audio.executors import ExecutorMode, default_workers
from audio.worker_pool import WorkerPoolExecutor
from bot.bot import BrentBot, create_bot
from bot.settings import Settings
from tests.audio import pool_jobs
from tests.fakediscord import FakeDiscord, pointed_at, running

pytestmark = pytest.mark.timeout(120)

EXTRACTIONS_PER_GUILD = 1
WORKERS = max(default_workers(), EXTRACTIONS_PER_GUILD + 1)  # as create_bot sizes the pool
WARMED_MODULES = ["yt_dlp", "yt_dlp.extractor.generic", "requests"]


class SeenAtIdentify:
    """What the bot had built when it was about to identify."""

    def __init__(self) -> None:
        self.worker_pids: frozenset[int] = frozenset()
        self.warmed: dict[int, list[str]] = {}
        self.standby: list[tuple[str, str, str]] = []  # (name, status, output format) of each waiting ffmpeg
        self.clock_threads: list[str] = []


def output_format(argv: list[str]) -> str:
    """The ``-f`` after ffmpeg's input: what the process writes."""
    return argv[argv.index("-f", argv.index("-i")) + 1]


def watch_identify(bot: BrentBot, seen: SeenAtIdentify, rendezvous_dir: Path) -> None:
    original = bot.before_identify_hook

    async def before_identify(shard_id: int | None, *, initial: bool = False) -> None:
        executor = bot.extractor._executor
        assert isinstance(executor, WorkerPoolExecutor)
        seen.worker_pids = executor.pids
        # One call in each worker, all at once: what each had imported before it was asked anything.
        loop = asyncio.get_running_loop()
        ask = functools.partial(pool_jobs.loaded_in, str(rendezvous_dir), WORKERS, WARMED_MODULES)
        answers = await asyncio.gather(*(loop.run_in_executor(executor, ask) for _ in range(WORKERS)))
        seen.warmed = dict(answers)
        if bot.ffmpeg_standby is not None:
            seen.standby = [
                (process.name(), process.status(), output_format(process.cmdline()))
                for process in map(psutil.Process, bot.ffmpeg_standby.pids)
            ]
        seen.clock_threads = sorted(t.name for t in threading.enumerate() if t.name.startswith("voice-clock-"))
        await original(shard_id, initial=initial)

    bot.before_identify_hook = before_identify  # type: ignore[method-assign]


async def test_workers_standby_ffmpeg_and_voice_clocks_are_ready_before_the_bot_identifies(
    tmp_path: Path,
) -> None:
    async with FakeDiscord() as fake:
        settings = Settings(
            allow_private_network=True, data_dir=tmp_path, extractor_mode=ExecutorMode.PROCESS.value,
            extractions_per_guild=EXTRACTIONS_PER_GUILD, ffmpeg_standby=1,
        )
        bot = create_bot(settings, connector=fake.connector(), guild_ready_timeout=0.1)
        executor = bot.extractor._executor
        assert isinstance(executor, WorkerPoolExecutor)
        assert not executor.pids  # nothing runs before the bot starts
        seen = SeenAtIdentify()
        (tmp_path / "rendezvous").mkdir()
        watch_identify(bot, seen, tmp_path / "rendezvous")
        with pointed_at(fake):
            async with running(bot):
                await fake.wait_for_ready(timeout=60)

    assert len(seen.worker_pids) == WORKERS
    assert set(seen.warmed) == set(seen.worker_pids)  # every worker answered, none was started for it
    for pid, loaded in seen.warmed.items():
        assert loaded == WARMED_MODULES, pid  # the warm-up ran in it, not the first lookup
    assert sorted(output for _, _, output in seen.standby) == ["ogg", "s16le"]  # PCM and copied Opus
    assert all("ffmpeg" in name and status != psutil.STATUS_ZOMBIE for name, status, _ in seen.standby)
    assert seen.clock_threads  # the sending threads run before any play
