"""`lyrics` through the loopback Discord: LRCLIB's answer (recorded, served from 127.0.0.1) fetched
through the egress gate for the playing track; nothing playing and no lyrics get a clear reply."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

import bot.lyrics as lyrics_module
from tests.e2e.brent_rig import Member, StartBrent
from tests.fakediscord import FakeDiscord, message_text
from tests.media import MediaServer, media_server

pytestmark = pytest.mark.e2e

ANSWER = Path(__file__).resolve().parents[1] / "bot" / "lrclib" / "search.json"


@pytest.fixture
def lrclib(e2e_media_dir: Path, tmp_path: Path) -> Iterator[MediaServer]:
    root = tmp_path / "lrclib"
    (root / "api").mkdir(parents=True)
    shutil.copy(ANSWER, root / "api" / "search")
    (root / "none" / "api").mkdir(parents=True)
    (root / "none" / "api" / "search").write_text("[]")
    shutil.copy(e2e_media_dir / "tone880.mp3", root / "tone880.mp3")
    with media_server(root) as server:
        yield server


async def test_lyrics_of_the_playing_track(
    start_brent: StartBrent, alice: Member, fake_discord: FakeDiscord, lrclib: MediaServer,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with start_brent():
        await alice.join_voice()
        await alice.ask("lyrics", "Nothing is playing.")
        monkeypatch.setattr(lyrics_module, "LRCLIB_URL", lrclib.url("api/search"))
        await alice.ask(f"play {lrclib.url('tone880.mp3')}", "Playing")
        _, reply = await alice.ask("lyrics", "Lyrics of")
        lines = message_text(reply).splitlines()
        assert lines[0] == "Lyrics of **Never Gonna Give You Up** by Rick Astley (LRCLIB, synced):"
        assert lines[1] == "   `0:18` We're no strangers to love"  # the track is near its start: from the top
        asked = [r.path for r in lrclib.requests if r.path.startswith("/api/search")]
        assert asked == ["/api/search?track_name=tone880"]  # a file has no artist: its title alone
        monkeypatch.setattr(lyrics_module, "LRCLIB_URL", lrclib.url("none/api/search"))
        _, none = await alice.ask("lyrics", "LRCLIB")
        assert message_text(none) == "LRCLIB has no lyrics for this track."
