"""A protocol-faithful loopback Discord for end-to-end tests of a real discord.py bot.

Usage::

    async with FakeDiscord() as fake:
        guild = fake.add_guild("g")
        bot = commands.Bot(..., connector=fake.connector())
        with pointed_at(fake):
            async with running(bot):
                await fake.member_join_voice(guild, guild.member("alice"), guild.voice_channel)
                cmd = await fake.inject_message(guild, guild.text_channel, guild.member("alice"), "!play x")
                await fake.wait_for_message(guild.text_channel, "playing", after=cmd)
                await fake.voice_log(guild).wait_for_audio(1.0)

See docs in :mod:`tests.fakediscord.server` for the whole API.
"""

from __future__ import annotations

from tests.fakediscord.model import FakeChannel, FakeGuild, FakeRole, FakeUser, message_text
from tests.fakediscord.pointing import FAKE_TOKEN, pointed_at, running, wait_for_bot
from tests.fakediscord.recorder import GapStats, SpeakingEvent, VoicePacket, VoiceRecorder, dominant_frequency
from tests.fakediscord.server import SITECUSTOMIZE_DIR, FakeDiscord, ScenarioMetrics
from tests.fakediscord.waiting import WaitTimeout
from tests.fakediscord.world import GatewayOp, InjectedMessage, RestCall

__all__ = [
    "FAKE_TOKEN", "SITECUSTOMIZE_DIR", "FakeChannel", "FakeDiscord", "FakeGuild", "FakeRole", "FakeUser", "GapStats",
    "GatewayOp", "InjectedMessage", "RestCall", "ScenarioMetrics", "SpeakingEvent", "VoicePacket",
    "VoiceRecorder", "WaitTimeout", "dominant_frequency", "message_text", "pointed_at", "running", "wait_for_bot",
]
