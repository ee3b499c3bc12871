"""Message-level cog tests with dpytest: real discord.py command parsing, no voice (the e2e tests cover voice)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import discord
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
    return shown_text(dpytest.get_message())


def shown_text(message: discord.Message) -> str:
    """What a member reads in a reply: its content and its embeds' text, whichever the reply uses."""
    parts = [message.content]
    for embed in message.embeds:
        parts += [embed.title or "", embed.description or "", embed.footer.text or ""]
        parts += [f"{field.name} {field.value}" for field in embed.fields]
    return "\n".join(part for part in parts if part)
