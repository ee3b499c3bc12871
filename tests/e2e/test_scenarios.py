"""Issue 3 scenarios: the real BRENT bot (``create_bot`` with every cog) against the loopback Discord.

Members type commands, the fake listens in the voice channel, and each test checks what a person
would hear: the right pitch, for the right time, paused when paused, at half amplitude at volume 50.
Media are generated tones and a "clock" (second k is 300 + 50k Hz) served from 127.0.0.1.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from bot.bot import BrentBot, create_bot
from bot.settings import Settings
from tests.fakediscord import FakeDiscord, FakeGuild, FakeUser, InjectedMessage, pointed_at, running
from tests.media import MediaServer

PREFIX = "\\"
TONE_SECONDS = 3.0


@dataclasses.dataclass
class Member:
    """A member in a fake guild who types commands in its first text channel."""

    fake: FakeDiscord
    guild: FakeGuild
    user: FakeUser

    async def join_voice(self, channel_name: str | None = None) -> None:
        channel = self.guild.channel(channel_name) if channel_name else self.guild.voice_channel
        await self.fake.member_join_voice(self.guild, self.user, channel)

    async def leave_voice(self) -> None:
        await self.fake.member_leave_voice(self.guild, self.user)

    async def say(self, command: str) -> InjectedMessage:
        return await self.fake.inject_message(self.guild, self.guild.text_channel, self.user, PREFIX + command)

    async def ask(self, command: str, expect: str, timeout: float = 15.0) -> tuple[InjectedMessage, dict[str, Any]]:
        """Type a command and wait for the bot's answer containing ``expect``."""
        sent = await self.say(command)
        reply = await self.fake.wait_for_message(self.guild.text_channel, expect, timeout, after=sent)
        return sent, reply


StartBrent = Callable[..., AbstractAsyncContextManager[BrentBot]]


@pytest.fixture
def start_brent(fake_discord: FakeDiscord, tmp_path: Path) -> StartBrent:
    """``async with start_brent(idle_timeout=...) as bot`` runs the real bot against the fake."""

    @asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[BrentBot]:
        settings = Settings(
            command_prefix=PREFIX, allow_private_network=True, idle_timeout=overrides.pop("idle_timeout", 60.0),
            data_dir=tmp_path, **overrides,
        )
        bot = create_bot(settings, connector=fake_discord.connector(), guild_ready_timeout=0.1)
        with pointed_at(fake_discord):
            async with running(bot):
                yield bot

    return start


@pytest.fixture
def alice(fake_discord: FakeDiscord, fake_guild: FakeGuild) -> Member:
    return Member(fake_discord, fake_guild, fake_guild.member("alice"))


async def test_play_joins_names_the_track_and_plays_it(
    start_brent: StartBrent, alice: Member, e2e_media: MediaServer, fake_discord: FakeDiscord
) -> None:
    recorder = fake_discord.voice_log(alice.guild)
    async with start_brent():
        await alice.join_voice()
        sent, reply = await alice.ask(f"play {e2e_media.url('tone440.mp3')}", "Playing")
        assert "tone440" in reply["content"]
        await fake_discord.wait_for_bot_voice(alice.guild, alice.guild.voice_channel)
        await recorder.wait_for_silence(timeout=20, after=sent.sent_at)
    assert recorder.errors == []
    assert abs(recorder.audio_seconds() - TONE_SECONDS) <= 0.1
    assert recorder.dominant_frequency() == pytest.approx(440, abs=1.0)
    assert recorder.sequence_breaks() == []
    assert recorder.gap_stats().p50_ms == pytest.approx(20.0, abs=1.0)
