"""probe(): whether this process can play right now, as one HealthReport.

Three things, in the order a failure explains the others: the gateway connection (discord.py
reconnects by itself, but while it is down no command arrives), the voice clocks (the threads that
send every packet: one that died or stopped keeping its players' times means silence wherever it
serves) and the store (a real read that must answer in time, since a store can hang as well as fail).
"""

from __future__ import annotations

import asyncio
import math
import time
from typing import TYPE_CHECKING

from discord.ext import commands

from bot.health.report import HealthReport

if TYPE_CHECKING:
    from audio.voice_clock import VoiceClocks
    from bot.bot import BrentBot
    from bot.store import Store

CLOCK_LAG_LIMIT = 5.0  # seconds a packet may be overdue before the clock counts as stuck
STORE_TIMEOUT = 5.0
NO_STORE = (
    "no database: it was unavailable when BRENT started, so queues are not saved and playlists are off "
    "(restart BRENT once the database is back)"
)


async def probe(bot: BrentBot) -> HealthReport:
    problem = gateway_problem(bot) or clock_problem(bot.running_voice_clocks, time.perf_counter())
    if problem is not None:
        return HealthReport(False, problem)
    problem, store_ms = await store_problem(bot.store)
    if problem is not None:
        return HealthReport(False, problem)
    latency = f"{bot.latency * 1000:.0f} ms" if math.isfinite(bot.latency) else "not measured yet"
    in_voice = len(bot.voice_clients)
    return HealthReport(
        True,
        f"connected to Discord ({len(bot.guilds)} servers, {in_voice} in voice, gateway latency {latency}); "
        f"store answered in {store_ms:.0f} ms",
    )


def gateway_problem(bot: BrentBot) -> str | None:
    if bot.is_closed():
        return "shutting down"
    if not bot.is_ready():
        return "not connected to the Discord gateway yet (logging in)"
    if isinstance(bot, commands.AutoShardedBot):  # one websocket per shard this process holds
        down = sorted(shard_id for shard_id, shard in bot.shards.items() if shard.is_closed())
        return f"shard(s) {', '.join(map(str, down))} disconnected from the Discord gateway" if down else None
    ws = bot.ws
    if ws is None:
        return "not connected to the Discord gateway yet (logging in)"
    if not ws.open:
        return "disconnected from the Discord gateway (reconnecting)"
    return None


def clock_problem(clocks: VoiceClocks | None, now: float) -> str | None:
    """None also before the first play, when no clock has started yet."""
    if clocks is None:
        return None
    lag = clocks.lag(now)
    if math.isinf(lag):
        return "a voice clock thread has stopped: the voice connections it served send nothing"
    if lag > CLOCK_LAG_LIMIT:
        return f"a voice clock is stuck: its next packet is {lag:.0f} s late"
    return None


async def store_problem(store: Store | None) -> tuple[str | None, float]:
    """A problem, or None and how long the read took (ms)."""
    if store is None:
        return NO_STORE, 0.0
    started = time.perf_counter()
    try:
        await asyncio.wait_for(store.load_state(0), STORE_TIMEOUT)  # no guild has id 0: a read of nothing
    except TimeoutError:
        return f"the store did not answer within {STORE_TIMEOUT:.0f} s", 0.0
    except Exception as exc:  # the message may carry a database URL: the type says enough
        return f"the store does not answer ({type(exc).__name__})", 0.0
    return None, (time.perf_counter() - started) * 1000
