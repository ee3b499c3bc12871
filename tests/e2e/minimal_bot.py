"""A minimal real discord.py bot for the loopback Discord's self-tests: `!play <url>`, `!move`, `!leave`."""

from __future__ import annotations

import asyncio

import discord
from discord.ext import commands

from tests.fakediscord import (
    FakeDiscord,
    FakeGuild,
)


def minimal_bot(
    fake: FakeDiscord, *, members_intent: bool = False, message_content: bool = True
) -> commands.Bot:
    """The smallest bot that exercises the whole voice path: ``!play <url>`` and ``!leave``."""
    intents = discord.Intents.default()
    intents.message_content = message_content
    intents.members = members_intent
    bot = commands.Bot(
        command_prefix="!",
        intents=intents,
        connector=fake.connector(),
        guild_ready_timeout=0.1,
        help_command=None,
    )
    bot.seen_contents = asyncio.Queue()  # type: ignore[attr-defined]

    @bot.listen("on_message")
    async def remember(message: discord.Message) -> None:
        if not message.author.bot:
            bot.seen_contents.put_nowait(message.content)  # type: ignore[attr-defined]

    @bot.command()
    async def play(ctx: commands.Context[commands.Bot], url: str) -> None:
        state = ctx.author.voice  # type: ignore[union-attr]
        if state is None or state.channel is None:
            await ctx.send("join a voice channel first")
            return
        voice = ctx.voice_client or await state.channel.connect()
        assert isinstance(voice, discord.VoiceClient)
        voice.play(discord.FFmpegPCMAudio(url, before_options="-nostdin", options="-vn"))
        await ctx.send("playing")

    @bot.command()
    async def move(ctx: commands.Context[commands.Bot], name: str) -> None:
        assert ctx.guild is not None and isinstance(ctx.voice_client, discord.VoiceClient)
        channel = discord.utils.get(ctx.guild.voice_channels, name=name)
        await ctx.voice_client.move_to(channel)
        await ctx.send(f"moved to {name}")

    @bot.command()
    async def leave(ctx: commands.Context[commands.Bot]) -> None:
        if ctx.voice_client is not None:
            await ctx.voice_client.disconnect(force=False)
        await ctx.send("bye")

    return bot


async def play_in(fake: FakeDiscord, guild: FakeGuild, url: str, member: str = "alice") -> float:
    """alice joins Music and types ``!play url``; returns when the bot said "playing" (command time)."""
    alice = guild.member(member)
    await fake.member_join_voice(guild, alice, guild.voice_channel)
    command = await fake.inject_message(guild, guild.text_channel, alice, f"!play {url}")
    await fake.wait_for_message(guild.text_channel, "playing", after=command)
    return command.sent_at
