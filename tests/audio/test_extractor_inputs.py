"""Inputs that must be refused before yt-dlp or ffmpeg sees them, and never become search words.

The resolver fails the test if it is asked anything: none of these may even reach name resolution.
"""

from __future__ import annotations

import pytest

from audio.errors import UrlRefused
from audio.extractor import MSG_LOCAL_PATH, Extractor
from audio.url_policy import UrlPolicy


def no_lookups(host: str) -> list[str]:
    raise AssertionError(f"name resolution attempted for {host!r}")


@pytest.fixture
def extractor() -> Extractor:
    made = Extractor(policy=UrlPolicy(resolver=no_lookups), timeout=5)
    yield made
    made.close()


@pytest.mark.parametrize("text", [
    "/etc/passwd", "~/.ssh/id_rsa", "./credentials.env", "../credentials.env", "C:\\Windows\\win.ini",
    "\\\\fileserver\\share\\song.mp3",
])
async def test_local_paths_are_refused(extractor: Extractor, text: str) -> None:
    with pytest.raises(UrlRefused) as refused:
        await extractor.resolve_all(text)
    assert refused.value.user_message == MSG_LOCAL_PATH


@pytest.mark.parametrize("text", [
    "concat:/etc/passwd|/etc/hosts", "data:audio/mpeg;base64,SUQz", "file:/etc/passwd", "file:///etc/passwd",
    "subfile,,start,0,end,0,,:/etc/passwd", "pipe:0", "javascript:alert(1)", "ftp://example.com/a.mp3",
    "gopher://127.0.0.1:6379/_INFO", "rtmp://127.0.0.1/live",
])
async def test_non_web_schemes_are_refused_not_searched(extractor: Extractor, text: str) -> None:
    assert Extractor.is_url(text)
    with pytest.raises(UrlRefused):
        await extractor.resolve_all(text)


def test_words_with_a_colon_are_still_a_search() -> None:
    assert not Extractor.is_url("ACDC:Thunderstruck")
    assert not Extractor.is_url("daft punk around the world")
