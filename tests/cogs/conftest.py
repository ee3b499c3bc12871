"""Message-level cog tests with dpytest: real discord.py command parsing, no voice (the e2e tests cover voice)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import discord.ext.test as dpytest
import pytest
from discord.ext import commands

from bot.bot import BrentBot, create_bot
from bot.settings import Settings


@pytest.fixture
async def bot() -> AsyncIterator[BrentBot]:
    made = create_bot(Settings(command_prefix="\\"))
    await made._async_setup_hook()
    await made.setup_hook()
    dpytest.configure(made, members=2)
    assert made.failed_extensions == {}
    yield made
    await dpytest.empty_queue()
    made.extractor.close()  # not bot.close(): dpytest's fake websocket cannot be closed


async def reply_to(text: str) -> str:
    """Send a command and return the bot's reply (dpytest re-raises errors after our handler replied)."""
    with contextlib.suppress(commands.CommandError):
        await dpytest.message(text)
    return dpytest.get_message().content
