"""The words a refused YouTube track is searched by elsewhere, and which refusals count."""

from __future__ import annotations

import pytest

from audio.errors import ExtractionError, NothingFound
from audio.extractor.messages import MSG_AGE, MSG_BOT_CHECK, MSG_GEO, MSG_PRIVATE
from audio.extractor.stand_in import oembed_title, refused_by_youtube, search_words


@pytest.mark.parametrize(("title", "artist", "words"), [
    ("Rick Astley - Never Gonna Give You Up (Official Video) (4K Remaster)", "Rick Astley",
     "Rick Astley - Never Gonna Give You Up"),
    ("Blinding Lights [Official Audio]", "The Weeknd - Topic", "The Weeknd Blinding Lights"),
    ("Song (Live at Wembley)", "BandVEVO", "Band Song (Live at Wembley)"),
    ("Untitled", None, "Untitled"),
])
def test_search_words(title: str, artist: str | None, words: str) -> None:
    assert search_words(title, artist) == words


def test_only_refusals_another_site_might_not_make_count() -> None:
    for message in (MSG_BOT_CHECK, MSG_AGE, MSG_GEO):
        assert refused_by_youtube(ExtractionError(message))
    assert not refused_by_youtube(ExtractionError(MSG_PRIVATE))
    assert not refused_by_youtube(NothingFound(MSG_BOT_CHECK.upper()))
    assert not refused_by_youtube(None)


def test_oembed_title() -> None:
    assert oembed_title('{"title": " Song ", "author_name": "Artist"}') == ("Song", "Artist")
    assert oembed_title('{"title": "Song", "author_name": 3}') == ("Song", None)
    for broken in ("<html>", "[]", '{"title": ""}'):
        with pytest.raises(ExtractionError):
            oembed_title(broken)
