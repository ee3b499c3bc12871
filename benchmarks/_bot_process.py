"""One bot under test in its own process: ``python -m benchmarks._bot_process --kind brent|baseline``.

Why a process of its own: its CPU time, resident memory, descriptors and children are then the
bot's alone (the fake Discord decodes every packet and keeps the PCM, which would swamp the
numbers), and the fake's work does not contend for the bot's GIL. The environment comes from
``FakeDiscord.subprocess_env()``, which points discord.py at the fake and trusts its test CA.

Both kinds get one extra command, ``lookup [entries]``: one yt-dlp lookup's worth of CPU work
(:func:`benchmarks._lookup_job.heavy_lookup`) run where that bot runs its yt-dlp work (BRENT: the
executor of its Extractor, in the chosen :class:`ExecutorMode`; baseline: the loop's default
thread pool, like ``YTDLSource.from_url``). Other guilds send it to load the bot while one streams.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import gc
import logging
import os
import signal
import sys
import tracemalloc
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import discord
from discord.ext import commands

from benchmarks._lookup_job import heavy_lookup
from bot import voice_connect

log = logging.getLogger(__name__)

PREFIX = "\\"
FAKE_TOKEN = "fake.bot.token-for-benchmarks"


class HeapProbe(commands.Cog):
    """``heap start`` starts tracemalloc; ``heap`` then reports what was allocated since and is still alive.

    Started after a warm-up, that is exactly the Python-level growth a soak asks about, and the
    tracing overhead is paid only from then on. The reply also gives tracemalloc's own memory, so
    the caller can take it out of the process's RSS.
    """

    @commands.command(name="heap")
    async def heap(self, ctx: commands.Context[Any], action: str = "") -> None:
        if action == "start":
            tracemalloc.start()
            await ctx.send("heap tracing")
            return
        gc.collect()
        current, _ = tracemalloc.get_traced_memory()
        overhead = tracemalloc.get_tracemalloc_memory()
        top = tracemalloc.take_snapshot().statistics("filename")[:4]
        growth = "; ".join(f"{Path(s.traceback[0].filename).name} {s.size / 1024:.0f} kB" for s in top)
        await ctx.send(f"growth: {growth or 'none'} | tm {overhead} | heap {current}")


class LookupLoad(commands.Cog):
    def __init__(self, executor: concurrent.futures.Executor | None) -> None:
        self.executor = executor

    @commands.command(name="lookup")
    async def lookup(self, ctx: commands.Context[Any], entries: int = 10) -> None:
        cpu = await asyncio.get_running_loop().run_in_executor(self.executor, heavy_lookup, entries)
        await ctx.send(f"looked up {entries} in {cpu:.3f}s cpu")


def build_brent(mode: str, data_dir: Path) -> tuple[commands.Bot, concurrent.futures.Executor]:
    from audio.executors import make_executor
    from audio.extractor import Extractor
    from audio.url_policy import UrlPolicy
    from bot.bot import create_bot
    from bot.settings import Settings

    settings = Settings(
        command_prefix=PREFIX, allow_private_network=True, idle_timeout=3600.0, data_dir=data_dir,
        database_url=f"sqlite:///{data_dir / 'brent.db'}", dj_role="DJ", max_user_tracks=None,
        max_queue_length=1000, play_cooldown=(1_000_000, 1.0), search_cooldown=(1_000_000, 1.0),
        extractions_per_guild=8,
    )
    executor = make_executor(mode)
    extractor = Extractor(
        policy=UrlPolicy(allow_private_network=True, allowed_providers=settings.allowed_providers),
        timeout=settings.extract_timeout, playlist_limit=settings.playlist_limit, executor=executor,
    )
    # The bench adds hundreds of guilds within seconds; requesting each one's member list would use up
    # the gateway's 110-commands-a-minute budget that joining voice needs too. Members in voice still
    # arrive with every GUILD_CREATE, and that is all BRENT's checks read.
    extra: dict[str, Any] = {}
    if "BRENT_BENCH_MAX_MESSAGES" in os.environ:  # an experiment's knob: discord.py's message cache size
        raw = os.environ["BRENT_BENCH_MAX_MESSAGES"]
        extra["max_messages"] = int(raw) if raw.isdigit() else None
    bot = create_bot(settings, extractor=extractor, guild_ready_timeout=0.1, chunk_guilds_at_startup=False, **extra)
    return bot, executor


def loop_run(executor: concurrent.futures.Executor, fn: Any) -> asyncio.Future[Any]:
    return asyncio.get_running_loop().run_in_executor(executor, fn)


async def serve(kind: str, mode: str, data_dir: Path) -> int:
    executor: concurrent.futures.Executor | None = None
    if kind == "brent":
        bot, executor = build_brent(mode, data_dir)
    else:
        from benchmarks.baseline_bot import create_baseline_bot

        bot = create_baseline_bot(PREFIX, guild_ready_timeout=0.1)
    if isinstance(executor, concurrent.futures.ProcessPoolExecutor):
        # As main.py does through Extractor.warm_up(): a running bot's workers started long ago.
        workers = int(getattr(executor, "_max_workers", 1))
        await asyncio.gather(*(loop_run(executor, os.getpid) for _ in range(workers)))
    gc.collect()  # as main.py does before it logs in
    gc.freeze()
    await bot.add_cog(LookupLoad(executor))
    await bot.add_cog(HeapProbe())
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    runner = asyncio.create_task(bot.start(FAKE_TOKEN))
    stopper = asyncio.create_task(stop.wait())
    orphan_watch = asyncio.create_task(_stop_when_orphaned(stop))
    await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
    if not bot.is_closed():
        await bot.close()
    stopper.cancel()
    orphan_watch.cancel()
    try:
        await asyncio.wait_for(runner, 15)
    except Exception:
        log.exception("bot ended with an error")
    if executor is not None:
        executor.shutdown(wait=True, cancel_futures=True)
    return 0


async def _stop_when_orphaned(stop: asyncio.Event) -> None:
    """A benchmark run that is interrupted must not leave a bot (and its ffmpegs) playing forever."""
    parent = os.getppid()
    while os.getppid() == parent:
        await asyncio.sleep(1.0)
    stop.set()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kind", choices=("brent", "baseline"), required=True)
    parser.add_argument("--mode", default="thread")
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--audio-player-threads", action="store_true",
                        help="BRENT sends voice the way discord.py does: one AudioPlayer thread per connection "
                             "(the design before the shared voice clock; for comparison only)")
    args = parser.parse_args(argv)
    if args.audio_player_threads:
        voice_connect.ClockedVoiceClient = discord.VoiceClient  # type: ignore[misc,assignment]
    level = os.environ.get("BRENT_BENCH_LOG_LEVEL", "WARNING")  # as benchmarks._fresh_bot's bots
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return asyncio.run(serve(args.kind, args.mode, args.data_dir))


if __name__ == "__main__":
    sys.exit(main())
