"""queue_for: the one queueing path keeps the order commands arrived in, whatever finishes first."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import discord
import pytest

from audio.track import Provider, Track
from bot.bot import BrentBot, create_bot
from bot.queueing import queue_for
from bot.settings import Settings


@pytest.fixture
async def bot() -> AsyncIterator[BrentBot]:
    made = create_bot(Settings(max_queue_length=10, max_user_tracks=2))
    yield made
    await made.close()


def track(title: str) -> Track:
    return Track(title, f"https://example.org/{title}.mp3", 60.0, None, None, Provider.DIRECT)


async def test_a_later_command_that_is_ready_first_still_queues_second(bot: BrentBot) -> None:
    guild = discord.Object(id=1)
    player = bot.player_for(guild)
    player.queue.extend([track("playing-stand-in")])  # keeps enqueue from starting playback
    slow_connect: asyncio.Future = asyncio.get_running_loop().create_future()

    async def command(turn_taken: asyncio.Event, name: str, connecting: asyncio.Future) -> None:
        async with bot.arrival_order.turn(guild.id) as turn:
            turn_taken.set()
            await queue_for(
                bot, turn, guild=guild, voice_channel=None, text_channel_id=5,  # type: ignore[arg-type]
                requester_id=hash(name) % 1000, tracks=[track(name)], connecting=connecting,
            )

    first_turn, second_turn = asyncio.Event(), asyncio.Event()
    first = asyncio.create_task(command(first_turn, "typed-first", slow_connect))
    await first_turn.wait()
    ready: asyncio.Future = asyncio.get_running_loop().create_future()
    ready.set_result(player)
    second = asyncio.create_task(command(second_turn, "picked-second", ready))
    await second_turn.wait()
    slow_connect.set_result(player)  # only now can the first one go on
    await asyncio.gather(first, second)
    assert [t.title for t in player.queue] == ["playing-stand-in", "typed-first", "picked-second"]
    assert bot.text_channels[guild.id] == 5


async def test_the_limits_apply_on_the_one_path(bot: BrentBot) -> None:
    guild = discord.Object(id=2)
    player = bot.player_for(guild)
    player.queue.extend([track("stand-in")])
    ready: asyncio.Future = asyncio.get_running_loop().create_future()
    ready.set_result(player)
    async with bot.arrival_order.turn(guild.id) as turn:
        queued = await queue_for(
            bot, turn, guild=guild, voice_channel=None, text_channel_id=5,  # type: ignore[arg-type]
            requester_id=7, tracks=[track(f"t{i}") for i in range(5)], connecting=ready,
        )
    assert len(queued.tracks) == 2  # MAX_USER_TRACKS=2: the rest are left out, not an error
    assert queued.saved is None  # no store in this bot
