"""Search sites: `sc: words`, `search sc words`, the server's default site, and prefixes refused.

yt-dlp gets a SoundCloud search answer shaped like its real one (``infodicts/soundcloud_search.json``);
nothing reaches SoundCloud.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
import yt_dlp

import audio.extractor.jobs as jobs_module
from audio.errors import ExtractionError, UrlRefused
from audio.executors import ExecutorMode
from audio.extractor import Extractor
from audio.extractor.sites import MSG_UNKNOWN_SITE, search_key, split_prefix
from audio.track import Provider
from audio.url_policy import UrlPolicy
from tests.audio.infodicts import load_info


class Answers:
    """Real yt-dlp processes a saved answer instead of asking the site."""

    def __init__(self, info: dict[str, Any]) -> None:
        self.info = info
        self.asked: list[str] = []

    def __call__(self, ydl: yt_dlp.YoutubeDL, url: str) -> dict[str, Any]:
        self.asked.append(url)
        return ydl.process_ie_result(copy.deepcopy(self.info), download=False)


def _nothing_resolves(host: str) -> list[str]:
    return []


@pytest.fixture
def extractor() -> Iterator[Extractor]:
    made = Extractor(policy=UrlPolicy(resolver=_nothing_resolves), mode=ExecutorMode.THREAD, timeout=10.0)
    yield made
    made.close()


@pytest.mark.parametrize(("text", "bare", "expected"), [
    ("sc: lofi beats", False, ("soundcloud", "lofi beats")),
    ("SoundCloud:lofi", False, ("soundcloud", "lofi")),
    ("yt: never gonna", False, ("youtube", "never gonna")),
    ("local: miles davis", False, ("local", "miles davis")),
    ("Queen: Bohemian Rhapsody", False, (None, "Queen: Bohemian Rhapsody")),
    ("sc lofi", False, (None, "sc lofi")),
    ("sc lofi", True, ("soundcloud", "lofi")),
    ("https://soundcloud.com/a/b", True, (None, "https://soundcloud.com/a/b")),
    ("lofi hip hop", True, (None, "lofi hip hop")),
])
def test_split_prefix(text: str, bare: bool, expected: tuple[str | None, str]) -> None:
    assert split_prefix(text, bare=bare) == expected


def test_a_site_that_cannot_be_searched_is_refused_by_name() -> None:
    with pytest.raises(ExtractionError) as caught:
        split_prefix("spotify: daft punk")
    assert caught.value.user_message == MSG_UNKNOWN_SITE.format(site="spotify")


def test_search_key_needs_the_provider_allowed() -> None:
    assert search_key("soundcloud", frozenset({Provider.SOUNDCLOUD})) == "scsearch"
    assert search_key(None, frozenset({Provider.YOUTUBE})) == "ytsearch"
    with pytest.raises(UrlRefused) as caught:
        search_key("soundcloud", frozenset({Provider.YOUTUBE}))
    assert caught.value.user_message == "Searching Soundcloud is turned off on this bot."


async def test_sc_prefix_searches_soundcloud(extractor: Extractor, monkeypatch: pytest.MonkeyPatch) -> None:
    answers = Answers(load_info("soundcloud_search"))
    monkeypatch.setattr(jobs_module, "_extract", answers)
    track = (await extractor.resolve_all("sc: lofi", requester_id=4))[0]
    assert answers.asked == ["scsearch1:lofi"]
    assert track.provider is Provider.SOUNDCLOUD
    assert track.page_url == "https://soundcloud.com/nightfall-audio/midnight-drive-extended-mix"
    assert (track.title, track.duration, track.requester_id) == ("Midnight Drive (Extended Mix)", 412.734, 4)


async def test_search_takes_a_bare_site_word_and_the_server_default(
    extractor: Extractor, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = Answers(load_info("soundcloud_search"))
    monkeypatch.setattr(jobs_module, "_extract", answers)
    hits = await extractor.search("sc lofi", 3)
    assert [t.title for t in hits] == ["Midnight Drive (Extended Mix)", "rainy window", "late night study [lofi]"]
    await extractor.search("lofi", 3, search_provider="scsearch")  # the server's default site
    await extractor.resolve_all("yt: lofi", search_provider="scsearch")  # a prefix beats the default
    assert answers.asked == ["scsearch3:lofi", "scsearch3:lofi", "ytsearch1:lofi"]


async def test_local_without_a_library_and_a_refused_site_ask_nothing(
    extractor: Extractor, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = Answers(load_info("soundcloud_search"))
    monkeypatch.setattr(jobs_module, "_extract", answers)
    with pytest.raises(ExtractionError) as no_library:
        await extractor.resolve_all("local: miles davis")
    assert "MUSIC_DIR" in no_library.value.user_message
    with pytest.raises(ExtractionError) as refused:
        await extractor.search("deezer: x")
    assert refused.value.user_message == MSG_UNKNOWN_SITE.format(site="deezer")
    only_youtube = Extractor(
        policy=UrlPolicy(resolver=_nothing_resolves, allowed_providers=frozenset({Provider.YOUTUBE})),
        mode=ExecutorMode.THREAD,
    )
    try:
        with pytest.raises(UrlRefused):
            await only_youtube.resolve_all("sc: lofi")
    finally:
        only_youtube.close()
    assert answers.asked == []
