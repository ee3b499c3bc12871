"""Importing other bots' playlist files: Red's JSON export, Vocard's text export, plain link lists."""

from __future__ import annotations

import base64
import json
import struct

import pytest

from bot.store import PlaylistImportError, parse_playlist
from bot.store.peer_formats import decode_lavalink_track


def _utf(text: str) -> bytes:
    raw = text.encode("utf-8")
    return struct.pack(">H", len(raw)) + raw


def lavalink_code(title: str, author: str, ms: int, identifier: str, uri: str | None, *, version: int = 3) -> str:
    """A track code as Lavalink writes it (message flag 1, then the versioned body)."""
    body = bytes([version]) + _utf(title) + _utf(author) + struct.pack(">q", ms) + _utf(identifier) + b"\x00"
    if version >= 2:
        body += (b"\x01" + _utf(uri)) if uri is not None else b"\x00"
    if version >= 3:
        body += b"\x00\x00"  # no artwork, no isrc
    body += _utf("youtube") + struct.pack(">q", 0)
    return base64.b64encode(struct.pack(">I", (1 << 30) | len(body)) + body).decode()


def test_lavalink_codes_of_each_version_give_their_fields() -> None:
    info = decode_lavalink_track(lavalink_code("Song", "Band", 185_000, "abc", "https://www.youtube.com/watch?v=abc"))
    assert (info["title"], info["author"], info["length"], info["uri"]) == (
        "Song", "Band", 185_000, "https://www.youtube.com/watch?v=abc"
    )
    old = decode_lavalink_track(lavalink_code("Old", "A", 1000, "xyz", None, version=1))
    assert old["identifier"] == "xyz" and "uri" not in old


@pytest.mark.parametrize("code", ["not base64!", base64.b64encode(b"\x40\x00\x00\x10\x03\x00").decode()])
def test_damaged_codes_are_refused(code: str) -> None:
    with pytest.raises(ValueError):
        decode_lavalink_track(code)


def red_v3() -> str:
    tracks = [
        {"track": "QAAA", "info": {"title": "One", "author": "Band", "length": 200_000, "isStream": False,
                                   "uri": "https://www.youtube.com/watch?v=one", "identifier": "one"}},
        {"track": "QAAB", "info": {"title": "Two", "author": "Other", "length": 90_500, "isStream": False,
                                   "uri": "https://soundcloud.com/other/two", "identifier": "x"}},
    ]
    document = {"id": 1, "author": 5, "name": "road trip", "playlist_url": None, "tracks": tracks,
                "playlist": [t["info"]["uri"] for t in tracks], "link": None, "schema": 2, "version": "v3"}
    return json.dumps(document)


def test_red_v3_export_keeps_titles_lengths_and_uploaders() -> None:
    imported = parse_playlist(red_v3(), max_tracks=10)
    assert imported.name == "road trip"
    assert [(t.title, t.page_url, t.duration, t.uploader) for t in imported.tracks] == [
        ("One", "https://www.youtube.com/watch?v=one", 200.0, "Band"),
        ("Two", "https://soundcloud.com/other/two", 90.5, "Other"),
    ]


def test_red_v2_export_is_a_list_of_links() -> None:
    document = {"author": 5, "link": None, "name": "old", "schema": 2, "version": "v2",
                "playlist": ["https://www.youtube.com/watch?v=a", "https://soundcloud.com/b/c"]}
    imported = parse_playlist(json.dumps(document), max_tracks=10)
    assert imported.name == "old"
    assert [t.page_url for t in imported.tracks] == document["playlist"]


def test_red_track_without_a_link_names_what_is_missing() -> None:
    document = {"name": "x", "schema": 2, "version": "v3",
                "tracks": [{"info": {"title": "local", "sourceName": "local", "identifier": "/music/a.mp3"}}]}
    with pytest.raises(PlaylistImportError, match="Entry 1: the URL is missing"):
        parse_playlist(json.dumps(document), max_tracks=10)


def vocard_export(codes: list[str]) -> str:
    return (
        "!Remember do not change this file!\n------------->Info<-------------\n"
        "Playlist: chill (playlist)\nRequester: someone (123)\nTracks: 2 - 05:05\n"
        "------------>Tracks<------------\n1. Song [03:05]\n2. Tune [02:00]\n"
        "----------->Raw Info<-----------\n" + ",".join(codes)
    )


def test_vocard_export_reads_the_track_codes() -> None:
    codes = [
        lavalink_code("Song", "Band", 185_000, "abc", "https://www.youtube.com/watch?v=abc"),
        lavalink_code("Tune", "Solo", 120_000, "def", None, version=1),  # an old code: the id makes the link
    ]
    imported = parse_playlist(vocard_export(codes), max_tracks=10)
    assert imported.name == "chill"
    assert [(t.title, t.page_url, t.duration, t.uploader) for t in imported.tracks] == [
        ("Song", "https://www.youtube.com/watch?v=abc", 185.0, "Band"),
        ("Tune", "https://www.youtube.com/watch?v=def", 120.0, "Solo"),
    ]


def test_vocard_export_without_codes_says_so() -> None:
    text = vocard_export([]).split("----------->Raw")[0]
    with pytest.raises(PlaylistImportError, match="Vocard playlist: the Raw Info section"):
        parse_playlist(text, max_tracks=10)
    with pytest.raises(PlaylistImportError, match="Vocard playlist: track code 1 is damaged"):
        parse_playlist(vocard_export(["%%%"]), max_tracks=10)


def test_a_plain_list_of_links_with_comments_imports() -> None:
    text = "# my autoplaylist\nhttps://www.youtube.com/watch?v=a\n\n#shuffle\nhttps://soundcloud.com/b/c\n"
    imported = parse_playlist(text, max_tracks=10)
    assert imported.name is None
    assert [t.page_url for t in imported.tracks] == ["https://www.youtube.com/watch?v=a", "https://soundcloud.com/b/c"]


def test_a_plain_list_line_that_is_not_a_link_is_named() -> None:
    with pytest.raises(PlaylistImportError, match="Line 2"):
        parse_playlist("https://www.youtube.com/watch?v=a\nsome search words\n", max_tracks=10)
