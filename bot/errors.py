"""The one place a failed command turns into a reply.

Known failures (a :class:`BrentError`, a mistyped argument, a failed check, a cooldown) get a short,
specific reply. Anything else is a bug: it is logged with its traceback and context, and the user
gets a generic apology, because raw exception text can hold stream URLs, paths or ffmpeg output.

``BrentError.user_message`` is treated as text its author formatted on purpose (it may contain
`code` or a channel mention, and must escape any outside text it quotes with ``safe_text``); here it
only gets its mentions neutralised and its length bounded.
"""

from __future__ import annotations

import logging
import math
import re
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from audio.errors import BrentError
from bot.suggest import closest_commands
from bot.text import MESSAGE_LIMIT, code_span, safe_text

log = logging.getLogger(__name__)

APOLOGY = "Sorry, something went wrong while running that command. The bot owner can find the details in the logs."
NO_MENTIONS = discord.AllowedMentions.none()


class CheckRefused(commands.CheckFailure):
    """Raise from a command check to refuse with a specific, user-facing reason."""

    def __init__(self, user_message: str) -> None:
        super().__init__(user_message)
        self.user_message = user_message


class UserBlocked(commands.CheckFailure):
    """The bot owner or the server blocked this member; they get no reply at all."""


class NotListening(commands.CheckFailure):
    """The server takes commands only in some text channels; the reply names them."""

    def __init__(self, channel_ids: frozenset[int]) -> None:
        super().__init__("not a command channel")
        self.channel_ids = channel_ids


def unwrap(error: BaseException) -> BaseException:
    """The exception that actually happened, out of discord.py's invoke/conversion wrappers."""
    wrappers = (commands.CommandInvokeError, commands.ConversionError, app_commands.CommandInvokeError)
    while isinstance(error, wrappers) and error.original:
        error = error.original
    if isinstance(error, commands.HybridCommandError) and error.original:
        return unwrap(error.original)
    if isinstance(error, app_commands.TransformerError) and error.__cause__ is not None:
        return unwrap(error.__cause__)
    return error


RULE_ERRORS = (BrentError, CheckRefused, UserBlocked, NotListening)


def _rule_reply(error: BaseException) -> str | None:
    """The reply to a refusal that needs no command to explain it (buttons get these too)."""
    if isinstance(error, BrentError | CheckRefused):
        return safe_text(error.user_message, MESSAGE_LIMIT, markdown=False)
    if isinstance(error, NotListening):
        shown = " ".join(f"<#{channel_id}>" for channel_id in sorted(error.channel_ids)[:10])
        return f"I take commands only in {shown} here."
    return None  # UserBlocked: no reply at all


def reply_for(ctx: commands.Context[Any], error: BaseException) -> str | None:
    """The message to send for ``error`` (None: say nothing); unexpected errors give the apology."""
    error = unwrap(error)
    if isinstance(error, RULE_ERRORS):
        return _rule_reply(error)
    if isinstance(error, commands.CommandNotFound):
        return _unknown_reply(ctx)
    if isinstance(error, commands.UserInputError):
        return _input_reply(ctx, error)
    if isinstance(error, commands.CheckFailure):
        return _check_reply(error)
    if isinstance(error, commands.CommandOnCooldown):
        return f"Slow down: try that again in {math.ceil(error.retry_after)}s."
    if isinstance(error, commands.MaxConcurrencyReached):
        return "That command is already running; try again when it finishes."
    if isinstance(error, commands.DisabledCommand):
        return "That command is turned off."
    return APOLOGY


async def handle_command_error(ctx: commands.Context[Any], error: BaseException) -> None:
    """Reply to (or log) a command failure; never raises, so one bad reply cannot cascade."""
    message = reply_for(ctx, error)
    if message == APOLOGY:
        original = unwrap(error)
        log.error(
            "command %r failed in guild %s channel %s (author %s)",
            ctx.command.qualified_name if ctx.command else None,
            ctx.guild.id if ctx.guild else None,
            getattr(ctx.channel, "id", None),
            ctx.author.id,
            exc_info=(type(original), original, original.__traceback__),
        )
    elif isinstance(unwrap(error), commands.CommandNotFound):
        log.debug("unknown command in guild %s", ctx.guild.id if ctx.guild else None)
    else:
        log.debug("command %r refused: %s", ctx.command.qualified_name if ctx.command else None, error)
    if message is None:
        return
    try:
        # A slash command's refusal is seen by whoever typed it only.
        await ctx.send(message, allowed_mentions=NO_MENTIONS, ephemeral=ctx.interaction is not None)
    except discord.HTTPException as exc:
        log.warning("could not send the error reply in channel %s: %s", getattr(ctx.channel, "id", None), exc)


async def handle_component_error(interaction: discord.Interaction[Any], error: BaseException) -> None:
    """A button's refusal: the reply its command would get, seen only by whoever pressed it.

    A blocked member's press is acknowledged without a word; anything unexpected is logged and
    answered with the apology, as for a command.
    """
    message = _rule_reply(error) if isinstance(error, RULE_ERRORS) else APOLOGY
    if message == APOLOGY:
        log.error(
            "button %r failed in guild %s (member %s)",
            dict(interaction.data or {}).get("custom_id"), interaction.guild_id, interaction.user.id,
            exc_info=(type(error), error, error.__traceback__),
        )
    else:
        log.debug("button refused: %s", error)
    try:
        if message is None:
            await interaction.response.defer()
        else:
            await interaction.response.send_message(message, ephemeral=True, allowed_mentions=NO_MENTIONS)
    except discord.HTTPException as exc:
        log.warning("could not answer a button in channel %s: %s", interaction.channel_id, exc)


def _input_reply(ctx: commands.Context[Any], error: commands.UserInputError) -> str:
    usage = _usage(ctx)
    if isinstance(error, commands.MissingRequiredArgument | commands.MissingRequiredAttachment):
        return f"Missing {code_span(usage_name(ctx.command, error.param), 50)}.{usage}"
    if isinstance(error, commands.TooManyArguments):
        return f"Too many arguments.{usage}"
    if isinstance(error, commands.BadArgument | commands.BadUnionArgument | commands.ArgumentParsingError):
        # Our converters write user messages; discord.py's own ones are short and quote the input.
        text = getattr(error, "user_message", None) or str(error)
        return safe_text(text, 500, markdown=False, single_line=True) + usage
    return f"That command was not typed right.{usage}"


def _unknown_reply(ctx: commands.Context[Any]) -> str | None:
    """The closest command names, or nothing when none is close (a stray prefix is not a command)."""
    typed = ctx.invoked_with or ""
    if not typed:
        return None
    names = [
        (spelling, command.name)
        for command in ctx.bot.commands
        if not command.hidden
        for spelling in (command.name, *command.aliases)
    ]
    close = closest_commands(typed, names)
    if not close:
        return None
    shown = ", ".join(code_span(f"{ctx.clean_prefix}{name}", 40) for name in close)
    return f"There is no command {code_span(typed, 40)}. Did you mean {shown}?"


_USAGE_TOKEN = re.compile(r"<[^>]*>|\[[^\]]*\]")


def usage_name(command: commands.Command[Any, ..., Any] | None, param: commands.Parameter) -> str:
    """The name the usage line gives a parameter (``<to>``), so a reply names it the same way."""
    fallback = param.displayed_name or param.name
    if command is None or not command.usage:
        return fallback
    tokens = _USAGE_TOKEN.findall(command.usage)
    names = list(command.clean_params)
    if len(tokens) != len(names) or param.name not in names:
        return fallback
    return tokens[names.index(param.name)]


def _usage(ctx: commands.Context[Any]) -> str:
    command = ctx.command
    if command is None:
        return ""
    signature = command.usage or command.signature
    line = f"{ctx.clean_prefix}{command.qualified_name} {signature}".strip()
    return f" Usage: {code_span(line)}"


def _check_reply(error: commands.CheckFailure) -> str:
    if isinstance(error, commands.NoPrivateMessage):
        return "That command only works in a server."
    if isinstance(error, commands.PrivateMessageOnly):
        return "That command only works in direct messages."
    if isinstance(error, commands.NotOwner):
        return "Only the bot's owner can use that command."
    if isinstance(error, commands.MissingRole | commands.MissingAnyRole):
        roles = getattr(error, "missing_roles", None) or [getattr(error, "missing_role", "")]
        names = ", ".join(safe_text(str(role), 100, markdown=False) for role in roles)
        return f"You need the {names} role for that."
    if isinstance(error, commands.MissingPermissions):
        return f"You need the {_permissions(error.missing_permissions)} permission for that."
    if isinstance(error, commands.BotMissingPermissions):
        return f"I need the {_permissions(error.missing_permissions)} permission for that."
    if isinstance(error, commands.BotMissingRole | commands.BotMissingAnyRole):
        return "I'm missing a role that command needs."
    if isinstance(error, commands.NSFWChannelRequired):
        return "That command only works in an age-restricted channel."
    return "You can't use that command here."


def _permissions(names: list[str]) -> str:
    return ", ".join(name.replace("_", " ").replace("guild", "server").title() for name in names)
