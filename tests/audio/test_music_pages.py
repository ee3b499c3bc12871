"""Spotify, Apple Music and Deezer links: which are playable kinds, and the songs their recorded public
pages (``music_pages/``, shaped like the real ones) name."""

from __future__ import annotations

from pathlib import Path

import pytest

from audio.errors import ExtractionError, NothingFound
from audio.extractor.music_pages import (
    MusicLink,
    Service,
    Song,
    apple_songs,
    deezer_songs,
    music_link,
    spotify_song,
    spotify_song_links,
)

PAGES = Path(__file__).parent / "music_pages"


def page(name: str) -> str:
    return (PAGES / name).read_text(encoding="utf-8")


@pytest.mark.parametrize(("text", "expected"), [
    ("https://open.spotify.com/track/4PTG3Z6ehGkBFwjybzWkR8?si=abc",
     MusicLink(Service.SPOTIFY, "track", "4PTG3Z6ehGkBFwjybzWkR8", "https://open.spotify.com/track/4PTG3Z6ehGkBFwjybzWkR8")),
    ("<https://open.spotify.com/intl-de/album/2noRn2Aes5aoNVsU6iWThc>",
     MusicLink(Service.SPOTIFY, "album", "2noRn2Aes5aoNVsU6iWThc", "https://open.spotify.com/album/2noRn2Aes5aoNVsU6iWThc")),
    ("https://www.deezer.com/fr/album/302127",
     MusicLink(Service.DEEZER, "album", "302127", "https://api.deezer.com/album/302127")),
    ("https://music.apple.com/us/album/whenever-you-need-somebody/1559523357?i=1559523359",
     MusicLink(Service.APPLE, "track", "1559523359",
               "https://music.apple.com/us/album/whenever-you-need-somebody/1559523357?i=1559523359")),
    ("https://music.apple.com/us/playlist/todays-hits/pl.f4d106fed2bd41149aaacabb233eb5eb",
     MusicLink(Service.APPLE, "playlist", "pl.f4d106fed2bd41149aaacabb233eb5eb",
               "https://music.apple.com/us/playlist/todays-hits/pl.f4d106fed2bd41149aaacabb233eb5eb")),
    ("https://www.youtube.com/watch?v=dQw4w9WgXcQ", None),
    ("daft punk one more time", None),
])
def test_music_link(text: str, expected: MusicLink | None) -> None:
    assert music_link(text) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("https://open.spotify.com/artist/4tZwfgrHOc3mvqYlEYSvVi", "Spotify artist links can't be played"),
    ("https://open.spotify.com/episode/0Q86acNRm6V9GYx55SXKwf", "Spotify episode links can't be played"),
    ("https://spotify.link/AbCdEf", "Paste the full Spotify link"),
    ("https://music.apple.com/us/artist/rick-astley/669771", "Apple Music artist links can't be played"),
    ("https://www.deezer.com/en/artist/27", "Deezer artist links can't be played"),
    ("https://deezer.page.link/xyz", "Paste the full Deezer link"),
])
def test_unplayable_links_are_refused_with_what_to_paste(text: str, message: str) -> None:
    with pytest.raises(ExtractionError) as caught:
        music_link(text)
    assert caught.value.user_message.startswith(message)


def test_spotify_pages() -> None:
    assert spotify_song(page("spotify_track.html")) == Song("Never Gonna Give You Up", "Rick Astley")
    assert spotify_song_links(page("spotify_album.html")) == [
        "https://open.spotify.com/track/0DiWol3AO6WpXZgp0goxAV",
        "https://open.spotify.com/track/2VEZx7NWsZ1D0eJ4uv5Fym",
        "https://open.spotify.com/track/5W3cjX2J3tjhG8zb6u0qHn",
    ]
    assert spotify_song(page("spotify_track_5W3cjX2J3tjhG8zb6u0qHn.html")) == Song(
        "Harder, Better, Faster, Stronger", "Daft Punk"
    )
    with pytest.raises(NothingFound):
        spotify_song("<html><head><title>Spotify</title></head></html>")
    with pytest.raises(NothingFound):
        spotify_song_links(page("spotify_track.html"))


def test_apple_and_deezer_pages() -> None:
    album = apple_songs(page("apple_album.html"), "album")
    assert album == [
        Song("Never Gonna Give You Up", "Rick Astley"),
        Song("Whenever You Need Somebody", "Rick Astley"),
        Song("Together Forever", "Rick Astley"),
    ]
    assert apple_songs(page("apple_album.html"), "track", "1559523362") == [Song("Together Forever", "Rick Astley")]
    with pytest.raises(NothingFound):
        apple_songs("<html></html>", "album")
    assert deezer_songs(page("deezer_track.json"), "track") == [Song("Harder, Better, Faster, Stronger", "Daft Punk")]
    assert [s.title for s in deezer_songs(page("deezer_album.json"), "album")] == [
        "One More Time", "Aerodynamic", "Harder, Better, Faster, Stronger",
    ]
    assert Song("One More Time", "Daft Punk").words == "Daft Punk One More Time"
    with pytest.raises(NothingFound):
        deezer_songs(page("deezer_missing.json"), "track")
