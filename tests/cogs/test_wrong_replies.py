"""Replies to input typed wrong: each names what is right instead of guessing or saying nothing."""

from __future__ import annotations

import discord.ext.test as dpytest
import pytest
from discord.ext import commands

from bot.bot import BrentBot
from tests.cogs.conftest import reply_to


async def test_a_mistyped_command_is_answered_with_the_closest_names(bot: BrentBot) -> None:
    reply = await reply_to("\\plya some song")
    assert "There is no command `plya`" in reply
    assert "`\\play`" in reply


async def test_a_word_close_to_no_command_gets_no_reply(bot: BrentBot) -> None:
    with pytest.raises(commands.CommandNotFound):
        await dpytest.message("\\xyzzyq")
    assert dpytest.verify().message().nothing()


async def test_join_names_a_channel_that_does_not_exist(bot: BrentBot) -> None:
    reply = await reply_to("\\join NoSuchChannel")
    assert "No voice channel here is named `NoSuchChannel`" in reply


async def test_playlist_play_refuses_an_unknown_order(bot: BrentBot) -> None:
    reply = await reply_to("\\pl play mix randomly")
    assert "`randomly` is not an order" in reply and "`shuffle`" in reply


async def test_a_missing_argument_is_named_as_in_the_usage(bot: BrentBot) -> None:
    reply = await reply_to("\\move 1")  # the first number is not checked before the second is there
    assert reply.startswith("Missing `<to>`.") and "\\move <from> <to>" in reply
    assert (await reply_to("\\seek")).startswith("Missing `<[h:]mm:ss | seconds>`.")


async def test_extra_arguments_are_refused(bot: BrentBot) -> None:
    reply = await reply_to("\\volume 50 60")
    assert "Too many arguments" in reply and "\\volume <0-200>" in reply
    assert bot.players == {} or all(p.volume == 100 for p in bot.players.values())
