from __future__ import annotations

import contextlib

import discord.ext.test as dpytest
from discord.ext import commands

from bot.bot import BrentBot
from tests.cogs.conftest import reply_to, shown_text


async def test_owner_blocks_and_unblocks_a_member(bot: BrentBot) -> None:
    owner, other = dpytest.get_config().members[:2]
    bot.owner_ids = {owner.id}
    assert "Blocked" in await reply_to(f"\\blockuser {other.id}")
    assert other.id in bot.blocked_users

    with contextlib.suppress(commands.CheckFailure):
        await dpytest.message("\\queue", member=1)
    assert dpytest.verify().message().nothing()  # a blocked member gets no reply at all

    assert "Unblocked" in await reply_to(f"\\unblockuser {other.id}")
    await dpytest.message("\\queue", member=1)
    assert "The queue is empty." in shown_text(dpytest.get_message())


async def test_only_the_owner_may_block(bot: BrentBot) -> None:
    owner, other = dpytest.get_config().members[:2]
    bot.owner_ids = {other.id}
    assert "Only the bot's owner" in await reply_to(f"\\blockuser {other.id}")
    assert bot.blocked_users == set()


async def test_the_owner_cannot_block_themselves(bot: BrentBot) -> None:
    owner = dpytest.get_config().members[0]
    bot.owner_ids = {owner.id}
    assert "can't be blocked" in await reply_to(f"\\blockuser {owner.id}")
    assert bot.blocked_users == set()


async def test_play_cooldown_names_the_wait(bot: BrentBot) -> None:
    uses, _ = bot.settings.play_cooldown
    for _ in range(uses):
        assert "Join a voice channel first." in await reply_to("\\play something")
    assert "Slow down" in await reply_to("\\play something")


async def test_status(bot: BrentBot) -> None:
    reply = await reply_to("\\status")
    assert "Servers: 1" in reply and "playing: 0" in reply
