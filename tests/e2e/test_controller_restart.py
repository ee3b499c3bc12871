"""After a restart of the real ``python main.py`` the buttons of the controller the first process
posted still work: the persistent view of the second process answers them."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from tests.e2e.brent_rig import Member, add_music_guild, brent_process, write_credentials
from tests.e2e.controller_rig import PAUSE, is_controller
from tests.e2e.test_restart import media, restart_media  # noqa: F401
from tests.fakediscord import FakeDiscord
from tests.fakediscord.interactions import SlashMembers
from tests.media import MediaServer

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]


async def test_the_old_controllers_pause_works_after_a_restart(
    fake_discord: FakeDiscord, media: MediaServer, tmp_path: Path  # noqa: F811
) -> None:
    guild = add_music_guild(fake_discord)
    alice = Member(fake_discord, guild, guild.member("alice"))
    slash = SlashMembers(fake_discord)
    workdir = tmp_path / "brent"
    write_credentials(workdir)
    recorder = fake_discord.voice_log(guild)

    async with brent_process(fake_discord, workdir, "first") as first:
        await fake_discord.wait_for_ready(timeout=30)
        await alice.join_voice()
        played, _ = await alice.ask(f"play {media.url('clock60.mp3')}", "Playing", timeout=30)
        old = await fake_discord.wait_for_message(guild.text_channel, is_controller, 20, after=played)
        await recorder.wait_for_audio(1.0, timeout=20, after=played.sent_at)
        first.kill()
        await first.wait()
        killed_at = time.perf_counter()

    async with brent_process(fake_discord, workdir, "second") as second:
        await fake_discord.wait_until(lambda: fake_discord.gateway.identify_count >= 2, 30, "a second IDENTIFY")
        await recorder.wait_for_audio(1.0, timeout=40, after=killed_at)  # the restore plays again
        pressed = await slash.click(guild, alice.user, old, PAUSE)
        answer = await slash.wait_for_answer(pressed, lambda a: True, timeout=20)
        assert answer["type"] == 6, answer  # answered by the new process, not "this interaction failed"
        quiet = await recorder.wait_for_silence(timeout=10, after=pressed.sent_at)
        _, reply = await alice.ask("np", "paused", timeout=20)
        assert "clock60" in reply["embeds"][0]["title"]
        assert recorder.audio_packets(after=quiet.arrival) == []  # it stayed paused all along
        second.terminate()
        assert await asyncio.wait_for(second.wait(), 20) == 0
