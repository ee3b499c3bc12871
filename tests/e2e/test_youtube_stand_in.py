"""YouTube refuses (its "confirm you're not a bot" check): the same song from SoundCloud plays instead,
and the member is told it is a match. Both when `play` gets a YouTube link and when a YouTube search
hit is refused as it is due to play.

Nothing reaches YouTube or SoundCloud: yt-dlp gets YouTube's refusal and SoundCloud's search answer
as recorded (shaped like the real ones), the oEmbed answer comes from 127.0.0.1, and the SoundCloud
match's audio is a generated file on 127.0.0.1.
"""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import yt_dlp
from yt_dlp.utils import DownloadError

import audio.extractor.jobs as jobs_module
import audio.extractor.stand_in as stand_in_module
from audio.executors import ExecutorMode
from audio.extractor import Extractor
from audio.url_policy import UrlPolicy
from bot.bot import BrentBot, create_bot
from bot.settings import Settings
from tests.audio.infodicts import load_info
from tests.e2e.brent_rig import DJ_ROLE, PREFIX, Member
from tests.fakediscord import FakeDiscord, message_text, pointed_at, running
from tests.media import MediaServer, media_server

pytestmark = pytest.mark.e2e

LINK = "https://www.youtube.com/watch?v=dQw4w9WgXcQ"
REFUSAL = (
    "ERROR: [youtube] dQw4w9WgXcQ: Sign in to confirm you\u2019re not a bot. Use --cookies-from-browser or "
    "--cookies for the authentication. See  https://github.com/yt-dlp/yt-dlp/wiki/FAQ#how-do-i-pass-cookies-to-yt-dlp"
)


@pytest.fixture
def site(e2e_media_dir: Path, tmp_path: Path) -> Iterator[MediaServer]:
    """The SoundCloud match's audio and YouTube's oEmbed answer, on 127.0.0.1."""
    root = tmp_path / "site"
    root.mkdir()
    shutil.copy(e2e_media_dir / "tone660.mp3", root / "match.mp3")
    (root / "oembed").write_text(json.dumps({
        "title": "Rick Astley - Never Gonna Give You Up (Official Video) (4K Remaster)",
        "author_name": "Rick Astley", "type": "video", "provider_name": "YouTube", "version": "1.0",
    }))  # fmt: skip
    with media_server(root) as server:
        yield server


def soundcloud_answer(site: MediaServer) -> dict[str, Any]:
    answer = load_info("soundcloud_search")
    entry = answer["entries"][0]
    entry.update(url=site.url("match.mp3"), webpage_url=site.url("match.mp3"), title="Never Gonna Give You Up",
                 uploader="Rick Astley", duration=3.0)  # fmt: skip
    answer["entries"] = [entry]
    return answer


class Sites:
    """yt-dlp's answers: YouTube refuses every video, SoundCloud answers searches; the rest is real."""

    def __init__(self, soundcloud: dict[str, Any]) -> None:
        self.soundcloud = soundcloud
        self.asked: list[str] = []
        self._real = jobs_module._extract

    def __call__(self, ydl: yt_dlp.YoutubeDL, url: str) -> dict[str, Any]:
        self.asked.append(url)
        if url.startswith("https://www.youtube.com/watch"):
            raise DownloadError(REFUSAL)
        if url.startswith("scsearch"):
            return ydl.process_ie_result(_first(copy.deepcopy(self.soundcloud), url), download=False)
        if url.startswith("ytsearch"):
            return ydl.process_ie_result(_first(load_info("youtube_search"), url), download=False)
        return self._real(ydl, url)


def _first(answer: dict[str, Any], query: str) -> dict[str, Any]:
    """A search answer with as many hits as ``ytsearch<N>:`` asked for, as the site gives."""
    wanted = int(query.split(":", 1)[0].removeprefix("ytsearch").removeprefix("scsearch") or 1)
    answer["entries"] = answer["entries"][:wanted]
    return answer


def _resolve(host: str) -> list[str]:
    """Site names stand for a public address (never connected to: their answers are recorded)."""
    return ["93.184.215.14"] if host.endswith(("youtube.com", "soundcloud.com")) else []


@asynccontextmanager
async def brent(fake: FakeDiscord, tmp_path: Path) -> AsyncIterator[BrentBot]:
    settings = Settings(command_prefix=PREFIX, allow_private_network=True, data_dir=tmp_path, dj_role=DJ_ROLE)
    extractor = Extractor(policy=UrlPolicy(allow_private_network=True, resolver=_resolve), mode=ExecutorMode.THREAD)
    bot = create_bot(settings, extractor=extractor, connector=fake.connector(), guild_ready_timeout=0.1)
    with pointed_at(fake):
        async with running(bot):
            yield bot


@pytest.fixture
def sites(site: MediaServer, monkeypatch: pytest.MonkeyPatch) -> Sites:
    answers = Sites(soundcloud_answer(site))
    monkeypatch.setattr(jobs_module, "_extract", answers)
    monkeypatch.setattr(stand_in_module, "OEMBED_URL", site.url("oembed"))
    return answers


async def test_a_refused_youtube_link_plays_its_soundcloud_match_and_says_so(
    alice: Member, fake_discord: FakeDiscord, sites: Sites, tmp_path: Path  # noqa: F811
) -> None:
    recorder = fake_discord.voice_log(alice.guild)
    async with brent(fake_discord, tmp_path):
        await alice.join_voice()
        sent, reply = await alice.ask(f"play {LINK}", "SoundCloud")
        assert message_text(reply) == (
            "YouTube refused **Rick Astley - Never Gonna Give You Up (Official Video) (4K Remaster)**, so this is "
            "a match from SoundCloud. Playing **Never Gonna Give You Up** (0:03)."
        )
        assert sites.asked[:2] == [LINK, "scsearch1:Rick Astley - Never Gonna Give You Up"]
        await recorder.wait_for_audio(1.0, after=sent.sent_at)
        assert recorder.dominant_frequency(0.2, 0.8, after=sent.sent_at) == pytest.approx(660, abs=2.0)


async def test_a_search_hit_refused_when_due_to_play_is_replaced_by_its_match(
    alice: Member, fake_discord: FakeDiscord, sites: Sites, tmp_path: Path  # noqa: F811
) -> None:
    recorder = fake_discord.voice_log(alice.guild)
    channel = alice.guild.text_channel
    async with brent(fake_discord, tmp_path) as bot:
        await alice.join_voice()
        sent = await alice.say("play never gonna give you up")
        await fake_discord.wait_for_message(channel, "Skipped", 20, after=sent)  # the announcer, as for any failure
        notice = await fake_discord.wait_for_message(channel, "a match from SoundCloud", 20, after=sent)
        assert message_text(notice) == (
            "YouTube refused **Rick Astley - Never Gonna Give You Up (Official Video) (4K Remaster)** (3:33); "
            "a match from SoundCloud instead. Playing **Never Gonna Give You Up** (0:03)."
        )
        await recorder.wait_for_audio(1.0, after=sent.sent_at)
        assert recorder.dominant_frequency(0.2, 0.8, after=sent.sent_at) == pytest.approx(660, abs=2.0)
        history = [e.track.title for e in await bot.queue_memory.history.recent(alice.guild.id)]
        assert history == []  # the refused one never played


