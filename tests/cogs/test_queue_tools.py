"""The queue tools' wrong uses: each gets a clear short reply and changes nothing (no voice here)."""

from __future__ import annotations

import pytest

from audio.queue_order import QueueMode
from bot.bot import BrentBot
from tests.cogs.conftest import reply_to


@pytest.mark.parametrize(("command", "expected"), [
    ("\\playnext some words", "Join a voice channel first."),
    ("\\skipto 2", "I'm not in a voice channel"),
    ("\\previous", "I'm not in a voice channel"),
    ("\\replay", "I'm not in a voice channel"),
    ("\\dedupe", "I'm not in a voice channel"),
    ("\\undo", "There is nothing to undo."),
    ("\\history", "Nothing has been played here yet."),
    ("\\queuemode", "Queue mode: fifo (first come, first served)."),
    ("\\queuemode lottery", "The queue mode is one of `fifo` (first come, first served), `fair`"),
    ("\\skipto zero", "number"),
    ("\\history -2", "not a position"),
    ("\\remove <@1>", "not found"),
    ("\\lyrics", "Nothing is playing."),
    ("\\autoplay", "Autoplay is off."),
    ("\\autoplay maybe", "Give `on` or `off`."),
    ("\\autoplay on", "can change autoplay"),
    ("\\play spotify: daft punk", "Join a voice channel first."),
])
async def test_wrong_uses_get_a_clear_reply(bot: BrentBot, command: str, expected: str) -> None:
    reply = await reply_to(command)
    assert expected.lower() in reply.lower(), reply
    assert len(reply) < 300
    assert all(len(p.queue) == 0 and p.current is None for p in bot.players.values())
    assert all(bot.guild_settings.get(g.id).queue_mode is QueueMode.FIFO for g in bot.guilds)


async def test_a_member_without_the_dj_role_cannot_change_the_mode(bot: BrentBot) -> None:
    reply = await reply_to("\\queuemode fair")
    assert "can change the queue mode" in reply
    assert all(bot.guild_settings.get(g.id).queue_mode is QueueMode.FIFO for g in bot.guilds)
