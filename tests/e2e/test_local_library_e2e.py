"""`play local: words` through the loopback Discord: the file from MUSIC_DIR is heard, seeking works
(byte ranges through the egress gate), and nothing outside the folder can be asked for."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.source_settings import SourceSettings
from tests.audio.library_files import music_folder
from tests.e2e.brent_rig import Member, StartBrent
from tests.fakediscord import FakeDiscord, message_text

pytestmark = pytest.mark.e2e


async def test_a_library_file_plays_and_seeks_and_nothing_outside_is_reachable(
    start_brent: StartBrent, alice: Member, fake_discord: FakeDiscord, tmp_path: Path  # noqa: F811
) -> None:
    music = music_folder(tmp_path / "library")
    recorder = fake_discord.voice_log(alice.guild)
    # No private network: the library never needs it (the gate answers for the folder itself).
    async with start_brent(sources=SourceSettings(music_dir=music), allow_private_network=False):
        await alice.join_voice()
        sent, reply = await alice.ask("play local: so what miles", "Playing")
        assert message_text(reply) == "Playing **So What** (0:02)."
        await recorder.wait_for_audio(0.6, after=sent.sent_at)
        assert recorder.dominant_frequency(0.1, 0.5, after=sent.sent_at) == pytest.approx(440, abs=2.0)
        await alice.ask("seek 1", "Now at 0:01")
        _, missing = await alice.ask("play local: secret", "Nothing in the music library")
        assert message_text(missing) == "Nothing in the music library matches that."
        _, listing = await alice.ask("search local miles", "Reply with 1-2")
        assert "Blue in Green" in message_text(listing) and "So What" in message_text(listing)


async def test_without_a_library_local_says_how_to_get_one(
    start_brent: StartBrent, alice: Member, fake_discord: FakeDiscord  # noqa: F811
) -> None:
    async with start_brent():
        await alice.join_voice()
        _, reply = await alice.ask("play local: anything", "MUSIC_DIR")
        assert message_text(reply) == "This bot has no local music library (the owner sets MUSIC_DIR)."
