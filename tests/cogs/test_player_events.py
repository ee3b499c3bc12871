"""The cogs hear the players through the bot's one event bus, and leave it when they are unloaded."""

from __future__ import annotations

import asyncio

import discord.ext.test as dpytest

from audio.errors import ExtractionError
from audio.events import EndReason, TrackEnded, TrackStarted
from bot.bot import BrentBot
from tests.audio.player_doubles import make_track


async def failed_track_announcements(bot: BrentBot) -> list[str]:
    """Publish one FAILED end for the test guild's player and collect what the channel is told."""
    guild = bot.guilds[0]
    bot.text_channels[guild.id] = guild.text_channels[0].id
    outbox = bot.player_events.outbox(asyncio.get_running_loop(), name="test")
    failure = ExtractionError("That video is unavailable.")
    outbox.emit(TrackEnded(bot.player_for(guild), make_track("gone", 3.0), EndReason.FAILED, failure))
    await outbox.close()
    sent: list[str] = []
    while not dpytest.sent_queue.empty():
        sent.append(dpytest.get_message().content)
    return sent


async def test_a_failed_track_is_announced_once(bot: BrentBot) -> None:
    assert await failed_track_announcements(bot) == ["Skipped **gone** (0:03): That video is unavailable."]


async def test_reloading_the_playback_cog_announces_once(bot: BrentBot) -> None:
    subscribers = len(bot.player_events.subscribers)
    await bot.reload_extension("cogs.playback")
    await bot.reload_extension("cogs.playback")
    assert len(bot.player_events.subscribers) == subscribers
    assert await failed_track_announcements(bot) == ["Skipped **gone** (0:03): That video is unavailable."]


async def test_unloading_the_cogs_leaves_the_bus(bot: BrentBot) -> None:
    await bot.unload_extension("cogs.playback")
    await bot.unload_extension("cogs.voice")
    await bot.unload_extension("cogs.queue_tools")
    await bot.unload_extension("cogs.sources")
    assert bot.player_events.subscribers == (bot.recent_tracks,)  # the bot's own, for `play` suggestions
    assert await failed_track_announcements(bot) == []


async def test_the_idle_timer_hears_tracks_start_and_end(bot: BrentBot) -> None:
    voice_cog = bot.get_cog("Voice")
    updated: list[int] = []
    voice_cog.idle.update = updated.append  # type: ignore[attr-defined, method-assign]
    guild = bot.guilds[0]
    player, track = bot.player_for(guild), make_track("one", 3.0)
    outbox = bot.player_events.outbox(asyncio.get_running_loop(), name="test")
    outbox.emit(TrackStarted(player, track))
    outbox.emit(TrackEnded(player, track, EndReason.FINISHED))
    await outbox.close()
    assert updated == [guild.id, guild.id]
