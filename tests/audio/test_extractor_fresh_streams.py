"""FreshStreams: a resolve's Stream stands in for one lookup per use, only while young and far from expiry."""

from __future__ import annotations

import time

import pytest

from audio.extractor import fresh_streams
from audio.extractor.fresh_streams import FreshStreams, StreamUse
from audio.track import Stream

PAGE = "https://example.com/a.mp3"


def stream(expires_in: float | None = None) -> Stream:
    expires_at = None if expires_in is None else time.time() + expires_in
    return Stream(url="https://cdn.example.com/a.mp3", http_headers={}, expires_at=expires_at)


def test_each_use_takes_the_stream_once_and_only_the_uses_it_was_kept_for() -> None:
    kept = FreshStreams()
    found = stream()
    kept.keep(PAGE, found, {StreamUse.PLAYBACK, StreamUse.MEASURE})
    assert kept.take(PAGE, StreamUse.PLAYBACK) is found
    assert kept.take(PAGE, StreamUse.PLAYBACK) is None
    assert kept.take(PAGE, StreamUse.MEASURE) is found
    assert kept.take(PAGE, StreamUse.MEASURE) is None
    kept.keep(PAGE, found, {StreamUse.PLAYBACK})
    assert kept.take(PAGE, StreamUse.MEASURE) is None
    assert kept.take(PAGE, StreamUse.PLAYBACK) is found


def test_a_new_resolve_of_the_same_page_replaces_the_kept_stream() -> None:
    kept = FreshStreams()
    kept.keep(PAGE, stream(), {StreamUse.PLAYBACK, StreamUse.MEASURE})
    newer = stream()
    kept.keep(PAGE, newer, {StreamUse.PLAYBACK})
    assert kept.take(PAGE, StreamUse.MEASURE) is None
    assert kept.take(PAGE, StreamUse.PLAYBACK) is newer


def test_an_old_stream_is_not_handed_out(monkeypatch: pytest.MonkeyPatch) -> None:
    kept = FreshStreams()
    kept.keep(PAGE, stream(), {StreamUse.PLAYBACK, StreamUse.MEASURE})
    monkeypatch.setattr(fresh_streams, "HANDED_STREAM_FRESHNESS", -1.0)  # every age is too old
    assert kept.take(PAGE, StreamUse.PLAYBACK) is None
    assert kept.take(PAGE, StreamUse.MEASURE) is None


@pytest.mark.parametrize(("expires_in", "handed"), [(None, True), (3600.0, True), (60.0, False), (-1.0, False)])
def test_a_stream_close_to_its_urls_expiry_is_not_handed_out(expires_in: float | None, handed: bool) -> None:
    kept = FreshStreams()
    found = stream(expires_in)
    kept.keep(PAGE, found, {StreamUse.PLAYBACK})
    assert (kept.take(PAGE, StreamUse.PLAYBACK) is found) is handed


def test_the_oldest_pages_make_room_past_the_limit() -> None:
    kept = FreshStreams()
    pages = [f"https://example.com/{i}.mp3" for i in range(100)]
    for page in pages:
        kept.keep(page, stream(), {StreamUse.PLAYBACK})
    assert kept.take(pages[0], StreamUse.PLAYBACK) is None
    assert kept.take(pages[-1], StreamUse.PLAYBACK) is not None
