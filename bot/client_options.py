"""What BRENT asks of discord.py's client: intents, the prefix lookup, no pings, no message cache."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord.ext import commands

from bot.help import BrentHelp
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.bot import BrentBot


async def guild_prefix(bot: BrentBot, message: discord.Message) -> list[str]:
    """The server's own prefix (or the bot-wide one), and a mention of the bot."""
    guild_id = message.guild.id if message.guild is not None else None
    return commands.when_mentioned_or(bot.guild_settings.get(guild_id).prefix)(bot, message)


def bot_intents() -> discord.Intents:
    """Default intents plus the privileged message content and members ones (enable both in the portal)."""
    intents = discord.Intents.default()
    intents.message_content = True
    intents.members = True
    intents.voice_states = True
    return intents


def client_options(settings: Settings, given: dict[str, Any]) -> dict[str, Any]:
    """``given`` (a test's or the sharded bot's own) over BRENT's defaults."""
    options: dict[str, Any] = {
        "command_prefix": guild_prefix,
        "intents": bot_intents(),
        "allowed_mentions": discord.AllowedMentions.none(),
        "help_command": BrentHelp(),
        "case_insensitive": True,
        # No message cache: nothing here reads it (the controller keeps its own message), and the
        # thousand messages it would hold are objects every full garbage collection walks while the
        # voice clocks wait for the GIL.
        "max_messages": None,
    }
    if settings.owner_ids:
        options["owner_ids"] = set(settings.owner_ids)
    return options | given
