"""JSON and M3U export/import: faithful round trips, and malformed or hostile files refused clearly."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audio.track import Provider, Track
from bot.store import PlaylistImportError
from bot.store.playlist_formats import (
    MAX_IMPORT_BYTES,
    parse_json_playlist,
    parse_m3u_playlist,
    parse_playlist,
    playlist_to_json,
    playlist_to_m3u,
)
from bot.store.text_values import storable
from bot.store.track_rows import clean_title
from tests.store.support import make_track

IMPORTER = 808


def sample() -> list[Track]:
    return [
        make_track(1),
        Track("Live radio", "https://radio.example.com/stream.mp3", None, None, None, Provider.DIRECT, 3),
        Track(
            'Ünïcødé ♫ "quotes", commas',
            "https://soundcloud.com/a/b",
            187.4,
            "Ann",
            None,
            Provider.SOUNDCLOUD,
        ),
    ]


def test_json_round_trip_keeps_every_field_but_the_requester() -> None:
    text = playlist_to_json("Road trip", sample())
    imported = parse_json_playlist(text, max_tracks=10, requester_id=IMPORTER)
    assert imported.name == "Road trip"
    assert list(imported.tracks) == [t.requested_by(IMPORTER) for t in sample()]
    assert "requester" not in text


def test_m3u_round_trip_keeps_titles_urls_and_durations() -> None:
    text = playlist_to_m3u("Road trip", sample())
    assert text.startswith("#EXTM3U\n#PLAYLIST:Road trip\n#EXTINF:61,Track 1\nhttps://")
    imported = parse_m3u_playlist(text, max_tracks=10)
    assert imported.name == "Road trip"
    assert [(t.title, t.page_url) for t in imported.tracks] == [(t.title, t.page_url) for t in sample()]
    assert [t.duration for t in imported.tracks] == [61.0, None, 187.0]


def test_titles_cannot_inject_m3u_lines() -> None:
    evil = Track(
        "Nice\n/etc/passwd\r\n#EXTINF:1,x", "https://example.com/a.mp3", 1.0, None, None, Provider.DIRECT
    )
    text = playlist_to_m3u("x\nfile:///etc/shadow", [evil])
    assert text.count("\n") == 4  # header, name, one EXTINF, one URL
    imported = parse_m3u_playlist(text, max_tracks=5)
    assert [t.page_url for t in imported.tracks] == ["https://example.com/a.mp3"]


def test_provider_comes_from_the_policy_when_given() -> None:
    text = playlist_to_json("p", [make_track(1)])
    imported = parse_playlist(text, max_tracks=5, provider_of=lambda url: Provider.OTHER)
    assert imported.tracks[0].provider is Provider.OTHER
    m3u = parse_playlist(
        "https://www.youtube.com/watch?v=x\n", max_tracks=5, provider_of=lambda url: Provider.YOUTUBE
    )
    assert (m3u.tracks[0].provider, m3u.tracks[0].title) == (
        Provider.YOUTUBE,
        "https://www.youtube.com/watch?v=x",
    )


def test_plain_lists_and_plain_m3u_are_accepted() -> None:
    bare = json.dumps(
        [{"url": "https://example.com/1.mp3"}, {"webpage_url": "https://example.com/2.mp3", "title": "Two"}]
    )
    imported = parse_playlist(bare, max_tracks=5)
    assert [(t.title, t.provider) for t in imported.tracks] == [
        ("https://example.com/1.mp3", Provider.OTHER),
        ("Two", Provider.OTHER),
    ]
    plain = "\ufeff# my mix\r\n\r\nhttps://example.com/1.mp3\r\nhttp://example.com/2.ogg\r\n"
    assert [t.page_url for t in parse_playlist(plain, max_tracks=5).tracks] == [
        "https://example.com/1.mp3",
        "http://example.com/2.ogg",
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "not valid JSON (line 1"),
        ('{"tracks": 5}', '"tracks" list'),
        ('{"format": "spotify", "tracks": []}', "not a playlist export"),
        ('{"version": 99, "tracks": [{"url": "https://a.example/x"}]}', "newer BRENT"),
        ("[]", "no tracks"),
        ('[{"url": "https://a.example/x"}, "https://b.example/y"]', "Entry 2 is not an object"),
        ('[{"title": "no url"}]', "Entry 1: the URL is missing"),
        ('[{"url": "file:///etc/passwd"}]', "Entry 1: only http and https"),
        ('[{"url": "https://a.example/x y"}]', "Entry 1: the URL contains spaces"),
        ('[{"url": "https://a.example/x", "duration": "long"}]', "Entry 1: the duration is not a number"),
        ('[{"url": "https://a.example/x", "duration": -3}]', "Entry 1: the duration is not a non-negative"),
        ('[{"url": "https://a.example/x", "uploader": 7}]', "Entry 1: the uploader is not text"),
        ("[" * 100_000 + "]" * 100_000, "not a JSON playlist"),
        ("[1" + "0" * 5000 + "]", "not a JSON playlist"),
        ("#EXTM3U\n#EXTINF:abc,Title\nhttps://a.example/x\n", "Line 2: the #EXTINF duration"),
        ("#EXTM3U\n/home/me/Music/song.mp3\n", "Line 2: only http and https"),
        ("#EXTM3U\nC:\\Music\\song.mp3\n", "Line 2: only http and https"),
        ("#EXTM3U\n# nothing here\n", "no tracks"),
        ("", "no tracks"),
    ],
)
def test_malformed_imports_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(PlaylistImportError) as caught:
        parse_playlist(text, max_tracks=5)
    assert message in caught.value.user_message


def test_imports_are_capped_by_entries_and_by_size() -> None:
    many = "\n".join(f"https://example.com/{n}.mp3" for n in range(6))
    with pytest.raises(PlaylistImportError, match="more than 5 tracks"):
        parse_playlist(many, max_tracks=5)
    with pytest.raises(PlaylistImportError, match="more than 5 tracks"):
        parse_playlist(playlist_to_json("p", [make_track(n) for n in range(6)]), max_tracks=5)
    assert len(parse_playlist(many, max_tracks=6).tracks) == 6
    huge = "#" * (MAX_IMPORT_BYTES + 1)
    with pytest.raises(PlaylistImportError, match="larger than 1 MB"):
        parse_playlist(huge, max_tracks=5)


def test_bad_thumbnails_are_dropped_not_fatal() -> None:
    text = json.dumps([{"url": "https://a.example/x", "title": "T", "thumbnail": "javascript:alert(1)"}])
    assert parse_playlist(text, max_tracks=5).tracks[0].thumbnail is None


_titles = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=80).filter(
    lambda s: clean_title(s) != ""
)
_tracks = st.builds(
    Track,
    title=_titles.map(clean_title),
    page_url=st.from_regex(r"https://[a-z]{1,12}\.example/[A-Za-z0-9_~%-]{0,30}", fullmatch=True),
    duration=st.one_of(st.none(), st.floats(min_value=0, max_value=1e6, allow_nan=False)),
    uploader=st.one_of(st.none(), st.text(max_size=40).map(storable)),  # as the store holds them
    thumbnail=st.none(),
    provider=st.sampled_from(list(Provider)),
    requester_id=st.none(),
)


@settings(max_examples=60, deadline=None)
@given(name=_titles, tracks=st.lists(_tracks, min_size=1, max_size=8))
def test_any_playlist_survives_json_and_m3u(name: str, tracks: list[Track]) -> None:
    assert list(parse_playlist(playlist_to_json(name, tracks), max_tracks=8).tracks) == tracks
    m3u = parse_playlist(playlist_to_m3u(name, tracks), max_tracks=8)
    assert m3u.name == clean_title(name)
    assert [(t.title, t.page_url) for t in m3u.tracks] == [(t.title, t.page_url) for t in tracks]
