"""Playlist operations on both backends: names, ownership, caps, paging, damaged rows."""

from __future__ import annotations

import logging

import pytest

from audio.errors import LimitReached
from bot.store import (
    InvalidPlaylistName,
    NotPlaylistOwner,
    PlaylistError,
    PlaylistNameTaken,
    PlaylistNotFound,
    StoreLimits,
)
from bot.store.sql_store import SqlStore
from tests.store.conftest import StoreOpener
from tests.store.support import make_track, raw_sql

GUILD = 111_111_111_111_111_111
OWNER = 222_222_222_222_222_222
OTHER = 333_333_333_333_333_333


async def test_create_add_show_and_play(store: SqlStore) -> None:
    created = await store.create_playlist(GUILD, "  Road   trip ", owner_id=OWNER)
    assert (created.name, created.owner_id, created.guild_id, created.track_count) == (
        "Road trip",
        OWNER,
        GUILD,
        0,
    )

    tracks = [make_track(n) for n in range(1, 4)]
    updated = await store.add_tracks(GUILD, "road trip", tracks, user_id=OWNER, can_manage=False)
    assert updated.track_count == 3

    playlist, stored = await store.playlist_tracks(GUILD, "ROAD TRIP")
    assert playlist.id == created.id
    assert stored == tracks  # every field, requester included, comes back as a frozen Track
    assert [p.name for p in await store.list_playlists(GUILD)] == ["Road trip"]
    assert (await store.get_playlist(GUILD, "road trip")).track_count == 3


async def test_save_queue_as_playlist_is_one_step(store: SqlStore) -> None:
    tracks = [make_track(n) for n in range(5)]
    saved = await store.save_playlist(GUILD, "Friday", tracks, owner_id=OWNER)
    assert saved.track_count == 5
    assert (await store.playlist_tracks(GUILD, "friday"))[1] == tracks


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("", "needs a name"),
        ("   \t ", "needs a name"),
        ("x" * 33, "at most 32"),
        ("<@123456789>", "only use letters"),
        ("**bold**", "only use letters"),
        ("line\nbreak", None),  # whitespace collapses: allowed, becomes "line break"
        ("tab\u200bzero-width", "only use letters"),
        ("back`tick", "only use letters"),
    ],
)
async def test_names_are_validated(store: SqlStore, raw: str, problem: str | None) -> None:
    if problem is None:
        assert (await store.create_playlist(GUILD, raw, owner_id=OWNER)).name == "line break"
        return
    with pytest.raises(InvalidPlaylistName) as caught:
        await store.create_playlist(GUILD, raw, owner_id=OWNER)
    assert problem in caught.value.user_message
    assert await store.list_playlists(GUILD) == []


async def test_names_keep_unicode_letters_and_fold_lookalikes(store: SqlStore) -> None:
    created = await store.create_playlist(
        GUILD, "Ｃａｆé Ümlaut-Mix (2)", owner_id=OWNER
    )  # full-width letters
    assert created.name == "Café Ümlaut-Mix (2)"
    assert (await store.get_playlist(GUILD, "CAFÉ ümlaut-mix (2)")).id == created.id


async def test_names_are_unique_per_guild_ignoring_case(store: SqlStore) -> None:
    await store.create_playlist(GUILD, "Ärger", owner_id=OWNER)
    for clash in ("ärger", "ÄRGER", "  ärGer "):
        with pytest.raises(PlaylistNameTaken):
            await store.create_playlist(GUILD, clash, owner_id=OTHER)
    await store.create_playlist(GUILD, "Straße", owner_id=OWNER)
    with pytest.raises(PlaylistNameTaken):  # casefold, not lower(): ß == ss
        await store.create_playlist(GUILD, "STRASSE", owner_id=OWNER)
    assert [p.name for p in await store.list_playlists(GUILD)] == ["Ärger", "Straße"]


async def test_rename_checks_names_and_allows_a_case_change(store: SqlStore) -> None:
    await store.create_playlist(GUILD, "jazz", owner_id=OWNER)
    await store.create_playlist(GUILD, "blues", owner_id=OWNER)
    with pytest.raises(PlaylistNameTaken):
        await store.rename_playlist(GUILD, "jazz", "BLUES", user_id=OWNER, can_manage=False)
    with pytest.raises(InvalidPlaylistName):
        await store.rename_playlist(GUILD, "jazz", "@everyone", user_id=OWNER, can_manage=False)
    renamed = await store.rename_playlist(GUILD, "jazz", "Jazz", user_id=OWNER, can_manage=False)
    assert renamed.name == "Jazz"
    renamed = await store.rename_playlist(GUILD, "JAZZ", "Cool jazz", user_id=OWNER, can_manage=False)
    assert [p.name for p in await store.list_playlists(GUILD)] == ["blues", "Cool jazz"]
    with pytest.raises(PlaylistNotFound):
        await store.get_playlist(GUILD, "jazz")


async def test_only_owner_or_manager_may_change_but_anyone_may_play(store: SqlStore) -> None:
    await store.save_playlist(GUILD, "mine", [make_track(1), make_track(2)], owner_id=OWNER)
    attempts = [
        store.add_tracks(GUILD, "mine", [make_track(3)], user_id=OTHER, can_manage=False),
        store.remove_track(GUILD, "mine", 1, user_id=OTHER, can_manage=False),
        store.rename_playlist(GUILD, "mine", "yours", user_id=OTHER, can_manage=False),
        store.delete_playlist(GUILD, "mine", user_id=OTHER, can_manage=False),
    ]
    for attempt in attempts:
        with pytest.raises(NotPlaylistOwner):
            await attempt
    playlist, tracks = await store.playlist_tracks(GUILD, "mine")
    assert (playlist.name, len(tracks)) == ("mine", 2)

    await store.add_tracks(GUILD, "mine", [make_track(3)], user_id=OTHER, can_manage=True)
    removed = await store.delete_playlist(GUILD, "mine", user_id=OTHER, can_manage=True)
    assert removed.owner_id == OWNER
    assert await store.list_playlists(GUILD) == []


async def test_remove_uses_one_based_positions(store: SqlStore) -> None:
    await store.save_playlist(GUILD, "p", [make_track(n) for n in range(1, 6)], owner_id=OWNER)
    assert await store.remove_track(GUILD, "p", 1, user_id=OWNER, can_manage=False) == make_track(1)
    assert await store.remove_track(GUILD, "p", 4, user_id=OWNER, can_manage=False) == make_track(5)
    assert await store.remove_track(GUILD, "p", 2, user_id=OWNER, can_manage=False) == make_track(3)
    for bad in (0, -1, 3):
        with pytest.raises(PlaylistError, match=r"no track #"):
            await store.remove_track(GUILD, "p", bad, user_id=OWNER, can_manage=False)
    assert (await store.playlist_tracks(GUILD, "p"))[1] == [make_track(2), make_track(4)]


async def test_pages_number_entries_from_one_and_clamp(store: SqlStore) -> None:
    await store.save_playlist(GUILD, "long", [make_track(n) for n in range(1, 24)], owner_id=OWNER)
    first = await store.playlist_page(GUILD, "long", 1)
    assert (first.number, first.pages, first.start) == (1, 3, 1)
    assert [e.position for e in first.entries] == list(range(1, 11))
    assert first.entries[0].track == make_track(1)
    last = await store.playlist_page(GUILD, "long", 99)
    assert (last.number, last.start) == (3, 21)
    assert [(e.position, e.track) for e in last.entries] == [(n, make_track(n)) for n in (21, 22, 23)]
    assert (await store.playlist_page(GUILD, "long", 0)).number == 1

    await store.create_playlist(GUILD, "empty", owner_id=OWNER)
    empty = await store.playlist_page(GUILD, "empty", 1)
    assert (empty.number, empty.pages, empty.entries) == (1, 1, ())


async def test_caps_per_playlist_and_per_guild(open_db: StoreOpener) -> None:
    store = await open_db(
        limits=StoreLimits(max_playlist_tracks=5, max_guild_playlists=3, max_guild_playlist_tracks=8)
    )
    await store.save_playlist(GUILD, "a", [make_track(n) for n in range(4)], owner_id=OWNER)
    with pytest.raises(LimitReached, match="at most 5 tracks"):  # all or nothing
        await store.add_tracks(GUILD, "a", [make_track(10), make_track(11)], user_id=OWNER, can_manage=False)
    assert (await store.get_playlist(GUILD, "a")).track_count == 4
    await store.add_tracks(GUILD, "a", [make_track(10)], user_id=OWNER, can_manage=False)

    with pytest.raises(LimitReached, match="at most 5 tracks"):
        await store.save_playlist(GUILD, "too big", [make_track(n) for n in range(6)], owner_id=OWNER)
    with pytest.raises(LimitReached, match="8 tracks in all"):
        await store.save_playlist(GUILD, "b", [make_track(n) for n in range(4)], owner_id=OWNER)
    assert [p.name for p in await store.list_playlists(GUILD)] == ["a"]  # the refused saves left nothing

    await store.save_playlist(GUILD, "b", [make_track(n) for n in range(3)], owner_id=OWNER)
    await store.create_playlist(GUILD, "c", owner_id=OWNER)
    with pytest.raises(LimitReached, match="3 playlists"):
        await store.create_playlist(GUILD, "d", owner_id=OWNER)
    await store.create_playlist(OTHER, "d", owner_id=OWNER)  # caps are per guild


async def test_unknown_names_are_not_found(store: SqlStore) -> None:
    for call in (
        store.get_playlist(GUILD, "nope"),
        store.playlist_tracks(GUILD, "nope"),
        store.playlist_page(GUILD, "nope", 1),
        store.add_tracks(GUILD, "nope", [make_track(1)], user_id=OWNER, can_manage=True),
        store.delete_playlist(GUILD, "<@1>", user_id=OWNER, can_manage=True),  # invalid names cannot exist
    ):
        with pytest.raises(PlaylistNotFound):
            await call


async def test_damaged_rows_are_skipped_with_a_log_line(
    store: SqlStore, caplog: pytest.LogCaptureFixture
) -> None:
    playlist = await store.save_playlist(GUILD, "mixed", [make_track(1)], owner_id=OWNER)
    run = raw_sql(store)
    insert = (
        "INSERT INTO playlist_tracks (playlist_id, guild_id, title, page_url, duration, uploader, thumbnail, "
        "provider, requester_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )
    bad_rows = [
        ("Local file", "file:///etc/passwd", 1.0, None, None, "direct", None),
        ("Unknown provider", "https://example.com/a.mp3", 1.0, None, None, "napster", None),
        ("", "https://example.com/b.mp3", 1.0, None, None, "direct", None),
        ("Negative", "https://example.com/c.mp3", -5.0, None, None, "direct", None),
    ]
    for row in bad_rows:
        await run(insert, playlist.id, GUILD, *row)
    await store.add_tracks(GUILD, "mixed", [make_track(2)], user_id=OWNER, can_manage=False)

    with caplog.at_level(logging.WARNING, logger="bot.store.track_rows"):
        _, tracks = await store.playlist_tracks(GUILD, "mixed")
        page = await store.playlist_page(GUILD, "mixed", 1)
    assert tracks == [make_track(1), make_track(2)]
    assert [(e.position, e.track) for e in page.entries] == [(1, make_track(1)), (6, make_track(2))]
    assert sum("damaged track row" in r.getMessage() for r in caplog.records) == 8
    # A damaged entry can still be removed by its position.
    assert await store.remove_track(GUILD, "mixed", 2, user_id=OWNER, can_manage=False) is None
    assert (await store.get_playlist(GUILD, "mixed")).track_count == 5
