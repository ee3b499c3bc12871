"""Spotify and Deezer links through the loopback Discord: their public pages (recorded, served from
127.0.0.1 and fetched through the egress gate) name the songs, which are searched on the server's
site and queued in order; the reply says they are matches. Unplayable kinds are refused by name."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yt_dlp

import audio.extractor.jobs as jobs_module
from tests.audio.infodicts import load_info
from tests.e2e.brent_rig import Member
from tests.e2e.test_youtube_stand_in import brent
from tests.fakediscord import FakeDiscord, message_text
from tests.media import MediaServer, media_server

pytestmark = pytest.mark.e2e

PAGES = Path(__file__).resolve().parents[1] / "audio" / "music_pages"


@pytest.fixture
def site(e2e_media_dir: Path, tmp_path: Path) -> Iterator[MediaServer]:
    root = tmp_path / "site"
    shutil.copytree(PAGES, root)
    shutil.copy(e2e_media_dir / "short1.mp3", root / "hit.mp3")
    with media_server(root) as server:
        yield server


def on_loopback(site: MediaServer, url: str) -> str:
    """Where the recorded answer for a music site's URL is served."""
    if url == "https://open.spotify.com/track/4PTG3Z6ehGkBFwjybzWkR8":
        return site.url("spotify_track.html")
    if url == "https://open.spotify.com/album/2noRn2Aes5aoNVsU6iWThc":
        return site.url("spotify_album.html")
    if url.startswith("https://open.spotify.com/track/"):
        return site.url(f"spotify_track_{url.rsplit('/', 1)[1]}.html")
    if url == "https://api.deezer.com/album/302127":
        return site.url("deezer_album.json")
    raise AssertionError(f"unexpected page {url}")


class Search:
    """YouTube's search, answered with one hit named after the words, playing a file on 127.0.0.1."""

    def __init__(self, site: MediaServer) -> None:
        self.site = site
        self.asked: list[str] = []
        self._real = jobs_module._extract

    def __call__(self, ydl: yt_dlp.YoutubeDL, url: str) -> dict[str, Any]:
        if not url.startswith("ytsearch"):
            return self._real(ydl, url)
        self.asked.append(url)
        answer = load_info("youtube_search")
        entry = answer["entries"][0]
        entry.update(url=self.site.url("hit.mp3"), webpage_url=self.site.url("hit.mp3"),
                     title=f"{url.split(':', 1)[1]} (video)", duration=1.5)  # fmt: skip
        answer["entries"] = [entry]
        return ydl.process_ie_result(answer, download=False)


async def test_spotify_and_deezer_links_queue_their_matches_in_order(
    alice: Member, fake_discord: FakeDiscord, site: MediaServer, tmp_path: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    search = Search(site)
    monkeypatch.setattr(jobs_module, "_extract", search)
    recorder = fake_discord.voice_log(alice.guild)
    async with brent(fake_discord, tmp_path) as bot:
        real_page = bot.extractor.page

        async def page(url: str) -> str:
            return await real_page(on_loopback(site, url))

        monkeypatch.setattr(bot.extractor, "page", page)
        await alice.join_voice()
        sent, reply = await alice.ask("play https://open.spotify.com/track/4PTG3Z6ehGkBFwjybzWkR8?si=x", "match")
        assert message_text(reply) == (
            "A match on youtube for the Spotify track, not the original. "
            "Playing **Rick Astley Never Gonna Give You Up (video)** (0:01)."
        )
        await recorder.wait_for_audio(0.5, after=sent.sent_at)

        _, album = await alice.ask("play https://open.spotify.com/album/2noRn2Aes5aoNVsU6iWThc", "Matches")
        assert message_text(album).startswith("Matches on youtube for the Spotify album, not the original. Queued 3 tracks")
        player = bot.players[alice.guild.id]
        assert [t.title for t in player.queue][-3:] == [
            "Daft Punk One More Time (video)", "Daft Punk Aerodynamic (video)",
            "Daft Punk Harder, Better, Faster, Stronger (video)",
        ]
        _, deezer = await alice.ask("play https://www.deezer.com/en/album/302127", "Deezer album")
        assert "Queued 3 tracks" in message_text(deezer)

        before = list(player.queue)
        _, refused = await alice.ask("play https://open.spotify.com/artist/4tZwfgrHOc3mvqYlEYSvVi", "artist")
        assert message_text(refused) == "Spotify artist links can't be played; paste a track, album or playlist link."
        assert list(player.queue) == before
    # Every page was fetched, through the gate, from the stand-in server; nothing else was asked.
    fetched = [r.path for r in site.requests if r.path.endswith((".html", ".json"))]
    assert sorted(set(fetched)) == sorted({
        "/spotify_track.html", "/spotify_album.html", "/deezer_album.json",
        "/spotify_track_0DiWol3AO6WpXZgp0goxAV.html", "/spotify_track_2VEZx7NWsZ1D0eJ4uv5Fym.html",
        "/spotify_track_5W3cjX2J3tjhG8zb6u0qHn.html",
    })
