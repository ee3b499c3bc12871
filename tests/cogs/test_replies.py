"""Every wrong use gets a clear, short reply and changes nothing."""

from __future__ import annotations

import discord.ext.test as dpytest
import pytest

from bot.bot import BrentBot
from tests.cogs.conftest import reply_to


@pytest.mark.parametrize(("command", "expected"), [
    ("\\play never gonna give you up", "Join a voice channel first."),
    ("\\p x", "Join a voice channel first."),
    ("\\join", "Join a voice channel first."),
    ("\\pause", "I'm not in a voice channel"),
    ("\\resume", "I'm not in a voice channel"),
    ("\\skip", "I'm not in a voice channel"),
    ("\\stop", "I'm not in a voice channel"),
    ("\\rewind", "I'm not in a voice channel"),
    ("\\forward 5", "I'm not in a voice channel"),
    ("\\seek 1:30", "I'm not in a voice channel"),
    ("\\loop track", "I'm not in a voice channel"),
    ("\\remove 1", "I'm not in a voice channel"),
    ("\\shuffle", "I'm not in a voice channel"),
    ("\\clear", "I'm not in a voice channel"),
    ("\\np", "Nothing is playing."),
    ("\\queue", "The queue is empty."),
    ("\\volume", "Volume is 100%."),
])
async def test_commands_without_voice(bot: BrentBot, command: str, expected: str) -> None:
    assert expected in await reply_to(command)
    assert all(len(p.queue) == 0 and p.current is None for p in bot.players.values())


@pytest.mark.parametrize(("command", "fragment"), [
    ("\\seek abc", "time"),
    ("\\seek -5", "time"),
    ("\\seek 99:99:99", "time"),
    ("\\volume 500", "200"),
    ("\\volume loud", "200"),
    ("\\loop sideways", "off"),
    ("\\remove 0", "voice channel"),
    ("\\remove x", "number"),
    ("\\move 1", "to"),
    ("\\queue -1", "1"),
    ("\\rewind nan", "seconds"),
    ("\\play", "play"),
])
async def test_malformed_arguments_get_a_clear_reply(bot: BrentBot, command: str, fragment: str) -> None:
    reply = await reply_to(command)
    assert fragment.lower() in reply.lower(), reply
    assert len(reply) < 300
    assert bot.players == {} or all(len(p.queue) == 0 for p in bot.players.values())


async def test_replies_never_ping_or_break_markdown(bot: BrentBot) -> None:
    reply = await reply_to("\\seek @everyone")
    assert "@everyone" not in reply.replace("@\u200beveryone", "")
    reply = await reply_to("\\loop **bold** <@&123>")
    assert "<@&123>" not in reply and "**bold**" not in reply


async def test_help_lists_every_command_with_examples(bot: BrentBot) -> None:
    await dpytest.message("\\help")
    text = ""
    while not dpytest.verify().message().nothing():
        text += dpytest.get_message().content + "\n"
    for name in ("join", "leave", "play", "pause", "resume", "skip", "stop", "nowplaying", "rewind", "forward",
                 "seek", "volume", "loop", "queue", "remove", "move", "shuffle", "clear", "search"):
        assert f"\\{name}" in text, name
    detail = await reply_to("\\help seek")
    assert "seek 1:30" in detail and "\\sk" in detail


async def test_every_command_has_a_short_alias(bot: BrentBot) -> None:
    for command in bot.commands:
        assert command.aliases, command.name
        assert min(len(a) for a in command.aliases) <= 4, command.name
