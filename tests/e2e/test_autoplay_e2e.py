"""Autoplay through the loopback Discord: off by default; on, a dry queue gets a related track the
server has not played lately, and the channel is told. YouTube's search is answered as recorded
with hits playing files on 127.0.0.1."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yt_dlp

import audio.extractor.jobs as jobs_module
from tests.audio.infodicts import load_info
from tests.e2e.brent_rig import Member
from tests.e2e.conftest import SHORT_SECONDS
from tests.e2e.test_youtube_stand_in import brent
from tests.fakediscord import FakeDiscord, message_text, wait_for_bot
from tests.media import MediaServer, media_server

pytestmark = pytest.mark.e2e


@pytest.fixture
def site(e2e_media_dir: Path, tmp_path: Path) -> Iterator[MediaServer]:
    root = tmp_path / "site"
    root.mkdir()
    for name in ("short1.mp3", "short2.mp3", "short3.mp3"):
        shutil.copy(e2e_media_dir / name, root / name)
    with media_server(root) as server:
        yield server


class Search:
    """ytsearch answers: the asked song is short1; a search for its artist lists short1, short2, short3."""

    def __init__(self, site: MediaServer) -> None:
        self.site = site
        self.asked: list[str] = []
        self._real = jobs_module._extract

    def __call__(self, ydl: yt_dlp.YoutubeDL, url: str) -> dict[str, Any]:
        if not url.startswith("ytsearch"):
            return self._real(ydl, url)
        self.asked.append(url)
        names = ["short1"] if url.startswith("ytsearch1:") else ["short1", "short2", "short3"]
        answer = load_info("youtube_search")
        template = answer["entries"][0]
        answer["entries"] = [
            {**template, "url": self.site.url(f"{name}.mp3"), "webpage_url": self.site.url(f"{name}.mp3"),
             "title": name, "uploader": "Loopback Band", "channel": "Loopback Band", "duration": SHORT_SECONDS}
            for name in names
        ]  # fmt: skip
        return ydl.process_ie_result(answer, download=False)


async def test_a_dry_queue_gets_a_related_track_not_played_lately(
    alice: Member, fake_discord: FakeDiscord, site: MediaServer, tmp_path: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="bot.autoplay")
    search = Search(site)
    monkeypatch.setattr(jobs_module, "_extract", search)
    recorder = fake_discord.voice_log(alice.guild)
    channel = alice.guild.text_channel
    async with brent(fake_discord, tmp_path) as bot:
        await alice.join_voice()
        await alice.ask("autoplay", "Autoplay is off.")
        await alice.ask("autoplay maybe", "Give `on` or `off`.")
        await alice.ask("autoplay on", "Autoplay is now on.")
        # short2 played lately: autoplay must pass it over for short3.
        await bot.queue_memory.history.record(alice.guild.id, (await bot.extractor.search("x", 3))[1])
        sent, _ = await alice.ask("play never gonna", "Playing **short1**")
        notice = await fake_discord.wait_for_message(channel, "Autoplay", 20, after=sent)
        assert message_text(notice) == "Autoplay: **short3** (0:01), after **short1** (0:01)."
        assert search.asked[-1] == "ytsearch10:Loopback Band"
        await recorder.wait_for_audio(2 * SHORT_SECONDS - 0.2, timeout=20, after=sent.sent_at)
        heard = recorder.dominant_frequency(SHORT_SECONDS + 0.3, 2 * SHORT_SECONDS - 0.3, after=sent.sent_at)
        assert heard == pytest.approx(700, abs=2.0)  # short3
        player = bot.players[alice.guild.id]
        # After short3, everything related was played lately (short1, short2, short3): autoplay stays quiet.
        await wait_for_bot(lambda: "autoplay found only tracks played lately" in caplog.text, 20, "the decision")
        assert player.current is None and len(player.queue) == 0
        await alice.ask("autoplay off", "Autoplay is now off.")
