"""Lyrics: the query LRCLIB gets, which of its answers is shown, and the excerpt around the position."""

from __future__ import annotations

from pathlib import Path

import pytest

from audio.errors import NothingFound
from audio.track import Provider, Track
from bot.lyrics import MSG_NONE, best_lyrics, excerpt, lyrics_query, parse_synced
from bot.text import safe_text

ANSWER = (Path(__file__).parent / "lrclib" / "search.json").read_text()


def track(title: str, uploader: str | None) -> Track:
    return Track(title, "https://www.youtube.com/watch?v=dQw4w9WgXcQ", 213.0, uploader, None, Provider.YOUTUBE)


def test_lyrics_query() -> None:
    assert lyrics_query(track("Rick Astley - Never Gonna Give You Up (Official Video) (4K Remaster)", "Rick Astley")) == {
        "artist_name": "Rick Astley", "track_name": "Never Gonna Give You Up",
    }
    assert lyrics_query(track("Blinding Lights", "The Weeknd - Topic")) == {
        "track_name": "Blinding Lights", "artist_name": "The Weeknd",
    }
    assert lyrics_query(track("Untitled", None)) == {"track_name": "Untitled"}


def test_synced_lyrics_are_preferred_and_parsed() -> None:
    found = best_lyrics(ANSWER, 213.0)
    assert (found.title, found.artist, found.synced[0]) == (
        "Never Gonna Give You Up", "Rick Astley", (18.85, "We're no strangers to love"),
    )
    assert found.synced[6] == (43.2, "")
    assert parse_synced("[01:02.5] a\nno stamp\n[10:00] b") == ((62.5, "a"), (600.0, "b"))
    for empty in ("[]", "not json", "{}"):
        with pytest.raises(NothingFound) as caught:
            best_lyrics(empty, None)
        assert caught.value.user_message == MSG_NONE


def test_the_excerpt_marks_the_current_line_and_fits_its_budget() -> None:
    found = best_lyrics(ANSWER, 213.0)
    lines = excerpt(found, 36.0, 1000, lambda text: safe_text(text, 300))
    assert lines[0] == "   `0:22` You know the rules and so do I"  # three lines before the current one
    assert lines[3] == "▶ `0:35` I just wanna tell you how I'm feeling"
    assert sum(1 for line in lines if line.startswith("▶")) == 1
    assert lines[5] == "   `0:43` ♪"  # an empty synced line is a pause
    before_first = excerpt(found, 5.0, 1000, str)
    assert not any(line.startswith("▶") for line in before_first) and "`0:18`" in before_first[0]
    short = excerpt(found, 36.0, 60, str)
    assert short[-1] == "…" and sum(len(line) + 1 for line in short[:-1]) <= 60
    plain = best_lyrics(ANSWER.replace('"syncedLyrics":"[00', '"x":"[00'), None)
    assert excerpt(plain, 10.0, 1000, str)[0] == "We're no strangers to love"
