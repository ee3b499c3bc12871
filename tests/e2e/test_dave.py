"""DAVE end to end: BRENT's voice is end-to-end encrypted, and a member of the call hears it.

The loopback Discord runs with ``dave=True``: it is the MLS external sender, and each fake member
in the bot's channel is a real ``davey`` client, so the tone is heard only if the bot took part in
the group correctly and encrypted every frame with the current epoch's key.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import numpy as np
import pytest

from bot.bot import BrentBot, create_bot
from bot.settings import Settings
from tests.fakediscord import FakeDiscord, FakeGuild, dominant_frequency, pointed_at, running
from tests.media import MediaServer

PREFIX = "\\"
TONE_SECONDS = 3.0

pytestmark = pytest.mark.e2e


@pytest.fixture
async def dave_discord() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord(dave=True) as fake:
        yield fake


@pytest.fixture
def guild(dave_discord: FakeDiscord) -> FakeGuild:
    return dave_discord.add_guild("Dave Guild", voice_channels=("Music",), members=("alice", "bob"))


@asynccontextmanager
async def brent(fake: FakeDiscord, data_dir: Path) -> AsyncIterator[BrentBot]:
    settings = Settings(command_prefix=PREFIX, allow_private_network=True, data_dir=data_dir)
    bot = create_bot(settings, connector=fake.connector(), guild_ready_timeout=0.1)
    with pointed_at(fake):
        async with running(bot):
            yield bot


async def test_a_member_decrypts_the_tone_brent_plays(
    dave_discord: FakeDiscord, guild: FakeGuild, e2e_media: MediaServer, tmp_path: Path
) -> None:
    fake, alice = dave_discord, guild.member("alice")
    recorder = fake.voice_log(guild)
    async with brent(fake, tmp_path):
        await fake.member_join_voice(guild, alice, guild.voice_channel)
        sent = await fake.inject_message(guild, guild.text_channel, alice, f"{PREFIX}play {e2e_media.url('tone440.mp3')}")
        await fake.wait_for_message(guild.text_channel, "Playing", 15, after=sent)
        joined = await fake.wait_for_dave_group(guild, {fake.bot_user.id, alice.id})
        await recorder.wait_for_silence(timeout=20, after=sent.sent_at)
    assert recorder.errors == []
    heard = recorder.audio_packets(after=joined.at)
    assert heard and all(p.e2ee for p in heard)
    assert recorder.audio_seconds() == pytest.approx(TONE_SECONDS, abs=0.1)
    assert recorder.dominant_frequency(after=joined.at) == pytest.approx(440, abs=1.0)


async def test_members_joining_and_leaving_change_the_epoch_and_the_tone_stays_audible(
    dave_discord: FakeDiscord, guild: FakeGuild, e2e_media: MediaServer, tmp_path: Path
) -> None:
    """alice's client creates the group and welcomes the bot; bob's join is alice's commit, which
    the bot takes from op 29; alice's leave is the bot's own commit (it is the oldest member left)."""
    fake, alice, bob = dave_discord, guild.member("alice"), guild.member("bob")
    brent_id = fake.bot_user.id
    recorder = fake.voice_log(guild)
    async with brent(fake, tmp_path):
        await fake.member_join_voice(guild, alice, guild.voice_channel)
        sent = await fake.inject_message(guild, guild.text_channel, alice, f"{PREFIX}play {e2e_media.url('tone880.mp3')}")
        first = await fake.wait_for_dave_group(guild, {brent_id, alice.id})
        await recorder.wait_for_audio(1.0, after=first.at)

        await fake.member_join_voice(guild, bob, guild.voice_channel)
        second = await fake.wait_for_dave_group(guild, {brent_id, alice.id, bob.id})
        await recorder.wait_for_audio(1.0, after=second.at)

        await fake.member_leave_voice(guild, alice)
        third = await fake.wait_for_dave_group(guild, {brent_id, bob.id})
        await recorder.wait_for_audio(1.0, after=third.at)
        assert fake.bot_voice_channel(guild) == guild.voice_channel.id
    assert (first.epoch, second.epoch, third.epoch) == (1, 2, 3)
    assert (first.committer, second.committer, third.committer) == (alice.id, alice.id, brent_id)
    assert recorder.errors == []
    assert fake.dave_invalid_reports(guild) == []
    for epoch, listener in ((first, alice), (second, alice), (third, bob)):
        heard = recorder.audio_packets(after=epoch.at)[:50]  # one second, heard by `listener`
        assert len(heard) == 50 and all(p.e2ee for p in heard), (epoch, listener.name)
        pcm = b"".join(p.pcm for p in heard)
        assert dominant_frequency(np.frombuffer(pcm, dtype=np.int16).reshape(-1, 2)) == pytest.approx(880, abs=1.0)
    assert sent.sent_at < first.at
