"""Any Python str reaches the database: lone surrogates and NUL become U+FFFD instead of failing the write."""

from __future__ import annotations

import dataclasses
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from audio.track import Provider, Track
from bot.store import GuildState, InvalidPlaylistName, parse_json_playlist, parse_m3u_playlist
from bot.store.sql_store import SqlStore
from bot.store.text_values import REPLACEMENT, storable
from tests.store.support import make_track

GUILD = 31_337
OWNER = 42


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("plain", "plain"),
        ("a\ud800b", f"a{REPLACEMENT}b"),
        ("\udc00", REPLACEMENT),
        ("\ud800\ud800x", f"{REPLACEMENT}{REPLACEMENT}x"),
        ("x\udfb5\ud83c", f"x{REPLACEMENT}{REPLACEMENT}"),  # low before high is no pair
        ("\ud83c\udfb5", "\U0001f3b5"),  # a pair split across two code points is joined
        ("a\x00b", f"a{REPLACEMENT}b"),
        ("\ud800\U0001f3b5", f"{REPLACEMENT}\U0001f3b5"),
    ],
)
def test_storable_replaces_what_no_database_accepts(raw: str, stored: str) -> None:
    assert storable(raw) == stored


@given(st.text(alphabet=st.characters(blacklist_categories=())))
def test_storable_output_always_encodes(raw: str) -> None:
    out = storable(raw)
    out.encode("utf-8")
    assert "\x00" not in out
    if not any(ch == "\x00" or "\ud800" <= ch <= "\udfff" for ch in raw):
        assert out is raw


def _hostile_json() -> str:
    # JSON escapes that json.loads turns into lone surrogates and NUL, as a file from elsewhere may hold.
    entries = [
        '{"url": "https://example.com/1.mp3", "title": "First", "uploader": "Ann"}',
        '{"url": "https://example.com/2.mp3", "title": "Lone \\ud800 high", '
        '"uploader": "Up\\udc00loader"}',
        '{"url": "https://example.com/3.mp3", "title": "Nul\\u0000here", "uploader": "Zero\\u0000"}',
        '{"url": "https://example.com/4.mp3", "title": "\\ud83c\\udfb5 paired", "uploader": "Bo"}',
    ]
    return '{"format": "brent-playlist", "version": 1, "name": "Odd", "tracks": [' + ", ".join(entries) + "]}"


async def test_imported_playlist_with_surrogates_and_nul_saves(store: SqlStore) -> None:
    text = _hostile_json()
    assert "\ud800" in json.loads(text)["tracks"][1]["title"]  # what the json module really produces
    imported = parse_json_playlist(text, max_tracks=10, requester_id=OWNER)

    await store.save_playlist(GUILD, "Odd", imported.tracks, owner_id=OWNER)
    playlist, tracks = await store.playlist_tracks(GUILD, "Odd")

    assert playlist.track_count == 4
    assert [(t.title, t.uploader) for t in tracks] == [
        ("First", "Ann"),
        (f"Lone {REPLACEMENT} high", f"Up{REPLACEMENT}loader"),
        (f"Nul{REPLACEMENT}here", f"Zero{REPLACEMENT}"),
        ("\U0001f3b5 paired", "Bo"),
    ]
    assert [t.page_url for t in tracks] == [f"https://example.com/{n}.mp3" for n in range(1, 5)]
    assert all(t.requester_id == OWNER and t.provider is Provider.OTHER for t in tracks)


async def test_imported_m3u_with_an_undecodable_title_saves(store: SqlStore) -> None:
    raw = (
        b"#EXTM3U\n#EXTINF:12,Caf\xe9 \x00 song\nhttps://example.com/a.mp3\n"
        b"#EXTINF:3,Fine\nhttps://example.com/b.mp3\n"
    )
    imported = parse_m3u_playlist(raw.decode("utf-8", "surrogateescape"), max_tracks=10)

    await store.save_playlist(GUILD, "Mixed", imported.tracks, owner_id=OWNER)
    _, tracks = await store.playlist_tracks(GUILD, "Mixed")

    assert [(t.title, t.duration) for t in tracks] == [
        (f"Caf{REPLACEMENT} {REPLACEMENT} song", 12.0),
        ("Fine", 3.0),
    ]


async def test_tracks_added_directly_are_stored_the_same_way(store: SqlStore) -> None:
    odd = Track(
        "T\ud800", "https://example.com/x\x00", 1.0, "U\x00", "https://i.example/\udfff", Provider.DIRECT
    )
    await store.create_playlist(GUILD, "Direct", owner_id=OWNER)
    await store.add_tracks(GUILD, "Direct", [make_track(1), odd], user_id=OWNER, can_manage=False)
    _, tracks = await store.playlist_tracks(GUILD, "Direct")
    assert tracks[0] == make_track(1)
    assert (tracks[1].title, tracks[1].uploader) == (f"T{REPLACEMENT}", f"U{REPLACEMENT}")
    # The URLs are stored as well; a link that held NUL or a surrogate was never going to play anyway.
    assert tracks[1].page_url == f"https://example.com/x{REPLACEMENT}"
    assert tracks[1].thumbnail == f"https://i.example/{REPLACEMENT}"


async def test_queue_snapshot_with_such_a_track_saves(store: SqlStore) -> None:
    odd = Track(
        "Split \ud83c\udfb5 pair \udc00", "https://example.com/q.mp3", 5.0, "Nul\x00", None, Provider.DIRECT
    )
    queue = (make_track(1), odd, make_track(2))
    state = GuildState(GUILD, voice_channel_id=1, current=odd, position=2.0, queue=queue)

    await store.save_state(state)
    loaded = await store.load_state(GUILD)

    clean = dataclasses.replace(
        odd, title=f"Split \U0001f3b5 pair {REPLACEMENT}", uploader=f"Nul{REPLACEMENT}"
    )
    assert loaded == dataclasses.replace(state, current=clean, queue=(make_track(1), clean, make_track(2)))


@pytest.mark.parametrize("name", ["Bad\ud800", "Nul\x00name"])
async def test_a_name_with_such_text_is_refused_as_a_name(store: SqlStore, name: str) -> None:
    with pytest.raises(InvalidPlaylistName):
        await store.create_playlist(GUILD, name, owner_id=OWNER)
    assert await store.list_playlists(GUILD) == []
