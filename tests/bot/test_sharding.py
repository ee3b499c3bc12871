"""SHARD_COUNT / SHARD_IDS: parsed into Settings.shards, refused with a message naming the variable,
and turning the bot into an AutoShardedBot over exactly those shards (a plain Bot without them)."""

from __future__ import annotations

from typing import Any

import discord
import pytest
from discord.ext import commands

from bot.bot import BrentBot, ShardedBrentBot, create_bot
from bot.settings import Settings, SettingsError, load_settings
from bot.sharding import Shards, shard_of

TOKEN = "MTA1NjQ4OTk5OTk5OTk5OTk5OQ.GabcDE.abcdefghijklmnopqrstuvwxyz0123456789AB"


def settings_from(**values: str) -> Settings:
    return load_settings(None, environ={"CLIENT_TOKEN": TOKEN, **values})


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({}, None),
        ({"SHARD_COUNT": "", "SHARD_IDS": ""}, None),
        ({"SHARD_COUNT": "1"}, Shards(1, (0,))),
        ({"SHARD_COUNT": "4"}, Shards(4, (0, 1, 2, 3))),
        ({"SHARD_COUNT": "4", "SHARD_IDS": "2"}, Shards(4, (2,))),
        ({"SHARD_COUNT": "4", "SHARD_IDS": " 3, 1,1 "}, Shards(4, (1, 3))),
        ({"SHARD_COUNT": "8", "SHARD_IDS": "4-7"}, Shards(8, (4, 5, 6, 7))),
        ({"SHARD_COUNT": "8", "SHARD_IDS": "0, 2 - 3,"}, Shards(8, (0, 2, 3))),
    ],
)
def test_shard_settings_are_parsed(values: dict[str, str], expected: Shards | None) -> None:
    assert settings_from(**values).shards == expected


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"SHARD_IDS": "0"}, "SHARD_IDS needs SHARD_COUNT"),
        ({"SHARD_COUNT": "0"}, "SHARD_COUNT must be a whole number from 1"),
        ({"SHARD_COUNT": "two"}, "SHARD_COUNT must be a whole number from 1"),
        ({"SHARD_COUNT": "-2"}, "SHARD_COUNT must be a whole number from 1"),
        ({"SHARD_COUNT": "１"}, "SHARD_COUNT must be a whole number from 1"),  # a full-width digit
        ({"SHARD_COUNT": "100000"}, "SHARD_COUNT must be a whole number from 1 to 10000"),
        (
            {"SHARD_COUNT": "2", "SHARD_IDS": "2"},
            "SHARD_IDS must be shard numbers from 0 to 1 (SHARD_COUNT is 2)",
        ),
        ({"SHARD_COUNT": "4", "SHARD_IDS": "3-1"}, "SHARD_IDS must be shard numbers from 0 to 3"),
        ({"SHARD_COUNT": "4", "SHARD_IDS": "0;1"}, "SHARD_IDS must be shard numbers or ranges"),
        ({"SHARD_COUNT": "4", "SHARD_IDS": "-1"}, "SHARD_IDS must be shard numbers or ranges"),
        ({"SHARD_COUNT": "4", "SHARD_IDS": ","}, "SHARD_IDS must list at least one shard"),
    ],
)
def test_bad_shard_settings_are_refused_with_the_variable_named(values: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        settings_from(**values)
    assert message in str(caught.value)
    assert TOKEN not in str(caught.value)


def test_a_guild_belongs_to_the_shard_discord_routes_it_to() -> None:
    # Discord's formula: the snowflake's timestamp part modulo the shard count.
    assert shard_of((1234 << 22) | 0x3FFFFF, 10) == 4
    assert shard_of(81384788765712384, 1) == 0
    shards = Shards(3, (0, 2))
    assert [shards.holds(ms << 22) for ms in range(6)] == [True, False, True, True, False, True]
    assert str(shards) == "shard(s) 0, 2 of 3"


async def test_without_shard_settings_the_bot_is_a_plain_bot() -> None:
    bot = create_bot(Settings())
    try:
        assert type(bot) is BrentBot
        assert not isinstance(bot, commands.AutoShardedBot)
    finally:
        await bot.close()


async def test_with_shard_settings_the_bot_is_an_auto_sharded_bot_over_exactly_those_shards() -> None:
    bot: Any = create_bot(Settings(shards=Shards(4, (1, 3)), default_volume=40))
    try:
        assert isinstance(bot, ShardedBrentBot) and isinstance(bot, BrentBot)
        assert isinstance(bot, commands.AutoShardedBot)
        assert (bot.shard_count, bot.shard_ids) == (4, [1, 3])
        # BrentBot's own state and behaviour are the same code in both classes.
        player = bot.player_for(discord.Object(5))
        assert player.volume == 40 and bot.players == {5: player}
    finally:
        await bot.close()


def test_a_sharded_bot_without_shards_is_refused() -> None:
    with pytest.raises(ValueError, match="SHARD_COUNT"):
        ShardedBrentBot(Settings(), extractor=None)  # type: ignore[arg-type]  (refused before it is used)
