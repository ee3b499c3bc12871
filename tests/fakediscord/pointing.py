"""Pointing an in-process discord.py bot at the fake, and running it for the length of a test.

discord.py reads two class attributes for where Discord is: ``Route.BASE`` (every REST call) and
``DiscordWebSocket.DEFAULT_GATEWAY`` (the first gateway connection; READY's resume URL after that).
Patching those is the whole redirection; the voice endpoint comes from VOICE_SERVER_UPDATE.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TypeVar

import discord.gateway
import discord.http
import yarl
from discord.ext import commands

from tests.fakediscord.server import FakeDiscord
from tests.fakediscord.waiting import WaitTimeout

log = logging.getLogger(__name__)

FAKE_TOKEN = "fake.bot.token-for-tests"

BotT = TypeVar("BotT", bound=commands.Bot)


@contextlib.contextmanager
def pointed_at(fake: FakeDiscord) -> Iterator[FakeDiscord]:
    """Redirect discord.py's REST base and gateway URL to ``fake``; restore them afterwards."""
    old_base = discord.http.Route.BASE
    old_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    discord.http.Route.BASE = fake.rest_url + "/api/v10"
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)
    try:
        yield fake
    finally:
        discord.http.Route.BASE = old_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_gateway


@contextlib.asynccontextmanager
async def running(bot: BotT, *, token: str = FAKE_TOKEN, ready_timeout: float = 20.0) -> AsyncIterator[BotT]:
    """Start ``bot`` on this loop, wait for ``on_ready``, and close it (voice included) on exit.

    If the bot dies before READY (bad token, payload it cannot parse) that error is raised here
    instead of a bare timeout; if it died during the test, leaving the block says so.
    """
    ready = asyncio.Event()

    async def on_ready() -> None:
        ready.set()

    bot.add_listener(on_ready, "on_ready")
    task = asyncio.create_task(bot.start(token), name="bot-under-test")
    waiter = asyncio.create_task(ready.wait())
    try:
        done, _ = await asyncio.wait({task, waiter}, timeout=ready_timeout, return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            task.result()  # raises the bot's startup error, if any
            raise RuntimeError("the bot stopped before it became ready")
        if waiter not in done:
            raise WaitTimeout(f"the bot did not become ready within {ready_timeout}s")
        yield bot
        if task.done() and not task.cancelled() and task.exception() is not None:
            raise RuntimeError("the bot crashed while the test was running") from task.exception()
    finally:
        waiter.cancel()
        bot.remove_listener(on_ready, "on_ready")
        if not bot.is_closed():
            await bot.close()
        try:
            await asyncio.wait_for(task, 15)
        except (asyncio.CancelledError, Exception):
            log.debug("bot task ended with an error during teardown", exc_info=True)


async def wait_for_bot(check: Callable[[], bool], timeout: float = 10.0, what: str = "the bot") -> None:
    """Until ``check()`` (about the bot's own in-process state) is true, re-checked every loop tick.

    Some bot-side changes (a voice client removed after a kick) raise no event a test could await,
    so this polls between loop iterations; it is a bounded wait on a condition, not a fixed sleep.
    Conditions on the fake's state should use ``FakeDiscord.wait_until`` instead.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        if loop.time() > deadline:
            raise WaitTimeout(f"timed out after {timeout:.1f}s waiting for {what}")
        await asyncio.sleep(0.005)
