"""DAVE going wrong: what discord.py does, what a listener hears, and the one line BRENT logs.

discord.py 2.7.1 answers a commit or welcome it cannot process with op 31 and a new key package,
and meanwhile sends plain frames, which a member's client drops; with a voice server that offers
no DAVE it sends plain frames throughout. It logs neither above DEBUG, so BRENT's
``bot.voice_privacy`` says it: one warning per plain stretch while someone listens, and one line
when encryption is back.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.e2e.test_dave import PREFIX, brent
from tests.fakediscord import FakeDiscord, wait_for_bot
from tests.media import MediaServer

pytestmark = pytest.mark.e2e

PRIVACY_LOGGER = "bot.voice_privacy"


def privacy_lines(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == PRIVACY_LOGGER and r.levelno == level]


async def test_a_welcome_the_bot_cannot_process_is_logged_once_and_encryption_comes_back(
    e2e_media: MediaServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=PRIVACY_LOGGER)
    async with FakeDiscord(dave=True) as fake:
        guild = fake.add_guild("Dave Guild", voice_channels=("Music",), members=("alice",))
        alice = guild.member("alice")
        recorder = fake.voice_log(guild)
        fake.break_dave_for_bot(guild)
        async with brent(fake, tmp_path):
            await fake.member_join_voice(guild, alice, guild.voice_channel)
            sent = await fake.inject_message(guild, guild.text_channel, alice, f"{PREFIX}play {e2e_media.url('tone880.mp3')}")
            await fake.wait_for_message(guild.text_channel, "Playing", 15, after=sent)
            await wait_for_bot(lambda: bool(privacy_lines(caplog, logging.WARNING)), 10, "BRENT's privacy warning")
            assert fake.dave_invalid_reports(guild), "discord.py did not report the damaged welcome (op 31)"
            assert any("not end-to-end encrypted" in e for e in recorder.errors)  # alice hears nothing
            assert not any(p.e2ee for p in recorder.audio_packets())

            fake.break_dave_for_bot(guild, broken=False)
            mended = await fake.wait_for_dave_group(guild, {fake.bot_user.id, alice.id}, timeout=10)
            await recorder.wait_for_audio(1.0, after=mended.at)
            await wait_for_bot(lambda: bool(privacy_lines(caplog, logging.INFO)), 5, "BRENT's all-clear")
    warnings = privacy_lines(caplog, logging.WARNING)
    assert warnings == [
        f"Voice in guild {guild.id} is NOT end-to-end encrypted: the bot is not in the call's DAVE group "
        "(handshake unfinished or failed), so listeners' clients drop this audio"
    ]
    assert privacy_lines(caplog, logging.INFO) == [f"Voice in guild {guild.id} is end-to-end encrypted (DAVE) again"]
    after = recorder.audio_packets(after=mended.at)[:50]
    assert len(after) == 50 and all(p.e2ee for p in after)


async def test_a_voice_server_without_dave_is_logged(
    e2e_media: MediaServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=PRIVACY_LOGGER)
    async with FakeDiscord(dave=False) as fake:
        guild = fake.add_guild("Plain Guild", voice_channels=("Music",), members=("alice",))
        alice = guild.member("alice")
        async with brent(fake, tmp_path):
            await fake.member_join_voice(guild, alice, guild.voice_channel)
            sent = await fake.inject_message(guild, guild.text_channel, alice, f"{PREFIX}play {e2e_media.url('tone880.mp3')}")
            await fake.wait_for_message(guild.text_channel, "Playing", 15, after=sent)
            await wait_for_bot(lambda: bool(privacy_lines(caplog, logging.WARNING)), 10, "BRENT's privacy warning")
    assert privacy_lines(caplog, logging.WARNING) == [
        f"Voice in guild {guild.id} is NOT end-to-end encrypted: the voice server did not offer DAVE (protocol version 0)"
    ]
