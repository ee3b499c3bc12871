"""`settings` and the block lists through real command parsing (dpytest) with a real store."""

from __future__ import annotations

import discord
import discord.ext.test as dpytest
import pytest

from bot.bot import BrentBot
from bot.errors import UserBlocked
from tests.cogs.test_playlists import bot, say  # noqa: F401  (bot is a fixture)
from tests.store.conftest import open_db  # noqa: F401  (fixture)


def guild() -> discord.Guild:
    return dpytest.get_config().guilds[0]


async def make_manager(member: discord.Member) -> None:
    role = dpytest.backend.make_role("admins", guild(), permissions=discord.Permissions(manage_guild=True).value)
    await dpytest.add_role(member, role)


async def test_settings_lists_every_setting_with_its_default(bot: BrentBot) -> None:  # noqa: F811
    reply = await say("\\settings")
    for name in ("prefix", "djrole", "announce", "channels", "voice", "247", "idle", "volume", "search",
                 "queuemode", "autoplay", "maxqueue", "maxpermember", "maxlength"):
        assert f"`{name}`" in reply, name
    assert "`prefix` `\\` (default)" in reply


async def test_changing_a_setting_needs_manage_server(bot: BrentBot) -> None:  # noqa: F811
    assert "Manage Server" in await say("\\settings volume 40")
    assert bot.guild_settings.get(guild().id).volume == 100


async def test_a_new_prefix_is_stored_and_answers_at_once(bot: BrentBot) -> None:  # noqa: F811
    await make_manager(dpytest.get_config().members[0])
    assert await say("\\settings prefix !") == "`prefix` is now `!`."
    assert bot.store is not None and await bot.store.guild_settings(guild().id) == {"prefix": "!"}
    assert "`prefix` `!`" in await say("!settings")
    assert await say("!settings prefix default") == "`prefix` is now `\\`."


async def test_the_queue_mode_and_autoplay_shortcuts_are_the_settings(bot: BrentBot) -> None:  # noqa: F811
    await make_manager(dpytest.get_config().members[0])
    assert await say("\\settings queuemode fair") == "`queuemode` is now fair (one track per member in turn)."
    assert await say("\\queuemode") == "Queue mode: fair (one track per member in turn)."
    assert await say("\\autoplay") == "Autoplay is off."
    assert await say("\\settings autoplay on") == "`autoplay` is now on."
    assert await say("\\autoplay") == "Autoplay is on."
    assert bot.store is not None and await bot.store.guild_settings(guild().id) == {"queuemode": "fair", "autoplay": "on"}
    assert "can change the queue mode" in await say("\\queuemode fairtime")  # the shortcut is for DJs
    assert bot.guild_settings.get(guild().id).queue_mode == "fair"


async def test_bad_names_and_values_list_the_valid_ones(bot: BrentBot) -> None:  # noqa: F811
    await make_manager(dpytest.get_config().members[0])
    assert "The settings are `prefix`, `djrole`" in await say("\\settings colour red")
    assert "`on` or `off`" in await say("\\settings 247 sometimes")
    assert bot.store is not None and await bot.store.guild_settings(guild().id) == {}


async def test_a_server_block_silences_a_member_and_is_stored(bot: BrentBot) -> None:  # noqa: F811
    members = dpytest.get_config().members
    await make_manager(members[0])
    assert "Blocked" in await say(f"\\blockhere {members[1].mention}")
    assert bot.store is not None and (await bot.store.blocked_users()).get(guild().id) == {members[1].id}
    with pytest.raises(UserBlocked):
        await dpytest.message("\\volume", member=members[1])
    assert dpytest.verify().message().nothing()
    assert "Unblocked" in await say(f"\\unblockhere {members[1].mention}")
    assert "Volume is" in await say("\\volume", by=1)


async def test_the_owners_block_list_is_stored(bot: BrentBot) -> None:  # noqa: F811
    members = dpytest.get_config().members
    bot.owner_ids = {members[0].id}
    assert "Blocked" in await say(f"\\blockuser {members[1].mention}")
    assert bot.store is not None and (await bot.store.blocked_users()).get(0) == {members[1].id}
    reloaded = type(bot.guild_settings)(bot.settings)
    await reloaded.load(bot.store)  # as after a restart
    assert reloaded.is_blocked(members[1].id, None)
