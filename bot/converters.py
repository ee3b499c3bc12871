"""Command arguments: pure parsers, and the discord.py converters that wrap them.

Every parser either returns a value inside its documented range or raises :class:`InvalidArgument`
(a ``commands.BadArgument``) whose message is written for the user; nothing else escapes, which the
Hypothesis tests check. Only ASCII digits count, so ``float()``'s acceptance of other scripts'
digits, exponents, ``nan`` and ``inf`` never leaks through.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any, Literal

import discord
from discord.ext import commands

from audio.player import MAX_VOLUME
from bot.text import safe_text

if TYPE_CHECKING:
    from audio.player import LoopMode
    from bot.checks import VoiceLike

log = logging.getLogger(__name__)

MAX_TIMESTAMP = 24 * 3600.0
MAX_POSITION = 100_000
DEFAULT_STEP = 10.0

LoopName = Literal["off", "track", "queue"]
LOOP_ALIASES: dict[str, LoopName] = {
    "off": "off",
    "none": "off",
    "no": "off",
    "disable": "off",
    "track": "track",
    "song": "track",
    "one": "track",
    "single": "track",
    "queue": "queue",
    "all": "queue",
    "playlist": "queue",
}

_SECONDS = re.compile(r"(\d{1,6})(?:\.(\d{1,3}))?", re.ASCII)
_CLOCK = re.compile(r"(?:(\d{1,2}):)?(\d{1,4}):(\d{1,2}(?:\.\d{1,3})?)", re.ASCII)
_INTEGER = re.compile(r"\d{1,9}", re.ASCII)


class InvalidArgument(commands.BadArgument):
    """A command argument the user typed wrong; ``user_message`` (and ``str()``) says how to fix it."""

    def __init__(self, user_message: str) -> None:
        super().__init__(user_message)
        self.user_message = user_message


def parse_timestamp(text: str) -> float:
    """``"90"``, ``"1.5"``, ``"1:30"`` or ``"1:02:03"`` -> seconds, from 0 up to 24 hours."""
    value = text.strip()
    usage = "Give a time like `90`, `1:30` or `1:02:03`."
    if match := _SECONDS.fullmatch(value):
        seconds = float(value)
    elif match := _CLOCK.fullmatch(value):
        hours_text, minutes_text, seconds_text = match.groups()
        minutes, secs = int(minutes_text), float(seconds_text)
        if secs >= 60 or (hours_text is not None and minutes >= 60):
            raise InvalidArgument(f"`{_shown(value)}` is not a valid time. {usage}")
        seconds = int(hours_text or 0) * 3600 + minutes * 60 + secs
    else:
        raise InvalidArgument(f"`{_shown(value)}` is not a time. {usage}")
    if seconds > MAX_TIMESTAMP:
        raise InvalidArgument("That is more than 24 hours.")
    return seconds


def parse_seconds(text: str) -> float:
    """A strictly positive step for rewind/forward, in seconds or ``m:ss``."""
    seconds = parse_timestamp(text)
    if seconds <= 0:
        raise InvalidArgument("Give a number of seconds above 0, like `10` or `1:30`.")
    return seconds


def parse_position(text: str, maximum: int = MAX_POSITION) -> int:
    """A 1-based position as users see it in the queue (``3`` or ``#3``)."""
    value = text.strip().removeprefix("#")
    if not _INTEGER.fullmatch(value):
        raise InvalidArgument(f"`{_shown(text.strip())}` is not a position. Give a number like `3`.")
    number = int(value)
    if not 1 <= number <= maximum:
        raise InvalidArgument(f"Positions go from 1 to {maximum}.")
    return number


def parse_volume(text: str) -> int:
    """A volume percentage 0-200 (``50`` or ``50%``)."""
    value = text.strip().removesuffix("%").strip()
    if not _INTEGER.fullmatch(value):
        raise InvalidArgument(f"`{_shown(text.strip())}` is not a volume. Give a number from 0 to {MAX_VOLUME}.")
    number = int(value)
    if number > MAX_VOLUME:
        raise InvalidArgument(f"Volume goes from 0 to {MAX_VOLUME}%.")
    return number


def parse_loop_mode(text: str) -> LoopName:
    """``off``/``track``/``queue`` (also none, song, one, all...) -> the canonical mode name."""
    name = LOOP_ALIASES.get(text.strip().lower())
    if name is None:
        raise InvalidArgument("Loop mode must be `off`, `track` or `queue`.")
    return name


def _shown(text: str) -> str:
    """User input echoed inside a code span: short, one line, no backticks to break out with."""
    cleaned = text.replace("`", "'")
    return safe_text(cleaned, 40, markdown=False, single_line=True)


class Timestamp(commands.Converter[float]):
    """Seek target: ``90``, ``1:30``, ``1:02:03``."""

    async def convert(self, ctx: commands.Context[Any], argument: str) -> float:
        return parse_timestamp(argument)


class Seconds(commands.Converter[float]):
    """A positive number of seconds (rewind/forward step)."""

    async def convert(self, ctx: commands.Context[Any], argument: str) -> float:
        return parse_seconds(argument)


class Position(commands.Converter[int]):
    """A 1-based queue position or page number."""

    async def convert(self, ctx: commands.Context[Any], argument: str) -> int:
        return parse_position(argument)


class Volume(commands.Converter[int]):
    """A volume percentage, 0-200."""

    async def convert(self, ctx: commands.Context[Any], argument: str) -> int:
        return parse_volume(argument)


def parse_index(text: str) -> int:
    """A whole number as typed (``0``, ``#3``); the queue itself says which numbers it has."""
    value = text.strip().removeprefix("#")
    if not _INTEGER.fullmatch(value):
        raise InvalidArgument(f"`{_shown(text.strip())}` is not a position. Give a number like `3`.")
    return int(value)


PLAY_ORDERS: dict[str, str] = {"shuffle": "shuffle", "shuffled": "shuffle", "random": "shuffle", "mix": "shuffle"}


def parse_play_order(text: str) -> str:
    """``shuffle`` (or random, mix): the only order besides the saved one; anything else is refused."""
    order = PLAY_ORDERS.get(text.strip().lower())
    if order is None:
        raise InvalidArgument(
            f"`{_shown(text.strip())}` is not an order. Give `shuffle`, or nothing to play in the saved order."
        )
    return order


class QueuePosition(commands.Converter[int]):
    """A number as typed; the queue answers one it does not have with its actual range."""

    async def convert(self, ctx: commands.Context[Any], argument: str) -> int:
        return parse_index(argument)


class PlayOrder(commands.Converter[str]):
    """``shuffle`` or a refusal that names the choices."""

    async def convert(self, ctx: commands.Context[Any], argument: str) -> str:
        return parse_play_order(argument)


class VoiceChannelName(commands.Converter["VoiceLike"]):
    """A voice or stage channel of this server by mention, id or name; no match is said as such."""

    async def convert(self, ctx: commands.Context[Any], argument: str) -> VoiceLike:
        for converter in (commands.VoiceChannelConverter(), commands.StageChannelConverter()):
            try:
                return await converter.convert(ctx, argument)
            except commands.BadArgument:
                continue
        raise InvalidArgument(f"No voice channel here is named `{_shown(argument.strip())}`.")


class LoopModeConverter(commands.Converter["LoopMode"]):
    """A loop mode name or alias -> ``audio.player.LoopMode``."""

    async def convert(self, ctx: commands.Context[Any], argument: str) -> LoopMode:
        from audio.player import LoopMode

        return LoopMode(parse_loop_mode(argument))


class PositionOrMember(commands.Converter["int | discord.Member"]):
    """A queue position, or a member's mention (``remove @member``): only a mention names a member."""

    async def convert(self, ctx: commands.Context[Any], argument: str) -> int | discord.Member:
        if re.fullmatch(r"<@!?\d+>", argument.strip()):
            return await commands.MemberConverter().convert(ctx, argument.strip())
        return parse_index(argument)
