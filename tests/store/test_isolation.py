"""One guild can never read or change another guild's playlists or player state."""

from __future__ import annotations

import pytest

from audio.errors import StoreError
from bot.store import GuildState, PlaylistNotFound
from bot.store.sql_store import SqlStore
from tests.store.support import make_track, raw_sql

GUILD_A = 100_000_000_000_000_001
GUILD_B = 100_000_000_000_000_002
USER = 42


async def test_playlists_of_one_guild_are_invisible_to_another(store: SqlStore) -> None:
    a = await store.save_playlist(GUILD_A, "Shared name", [make_track(1)], owner_id=USER)
    for attempt in (
        store.get_playlist(GUILD_B, "shared name"),
        store.playlist_tracks(GUILD_B, "shared name"),
        store.playlist_page(GUILD_B, "shared name", 1),
        # Even the same user with Manage Server in guild B cannot touch guild A's playlist.
        store.add_tracks(GUILD_B, "shared name", [make_track(2)], user_id=USER, can_manage=True),
        store.remove_track(GUILD_B, "shared name", 1, user_id=USER, can_manage=True),
        store.rename_playlist(GUILD_B, "shared name", "taken", user_id=USER, can_manage=True),
        store.delete_playlist(GUILD_B, "shared name", user_id=USER, can_manage=True),
    ):
        with pytest.raises(PlaylistNotFound):
            await attempt
    assert await store.list_playlists(GUILD_B) == []

    b = await store.save_playlist(GUILD_B, "SHARED NAME", [make_track(9)], owner_id=USER)
    assert b.id != a.id
    await store.delete_playlist(GUILD_B, "shared name", user_id=USER, can_manage=False)
    playlist, tracks = await store.playlist_tracks(GUILD_A, "shared name")
    assert (playlist.id, tracks) == (a.id, [make_track(1)])


async def test_a_row_cannot_point_into_another_guilds_playlist(store: SqlStore) -> None:
    """Guessing ids gets nowhere: track rows carry their guild and the key pairs it with the playlist's."""
    a = await store.create_playlist(GUILD_A, "target", owner_id=USER)
    run = raw_sql(store)
    with pytest.raises(StoreError):
        await run(
            "INSERT INTO playlist_tracks (playlist_id, guild_id, title, page_url, duration, uploader, "
            "thumbnail, provider, requester_id) VALUES (?, ?, 'x', 'https://example.com/x.mp3', 1, NULL, NULL, "
            "'direct', NULL)",
            a.id,
            GUILD_B,
        )
    assert (await store.get_playlist(GUILD_A, "target")).track_count == 0


async def test_player_state_is_per_guild(store: SqlStore) -> None:
    state_a = GuildState(
        GUILD_A, voice_channel_id=1, current=make_track(1), position=5.0, queue=(make_track(2),)
    )
    state_b = GuildState(
        GUILD_B, voice_channel_id=2, current=make_track(3), position=9.0, queue=(make_track(4),)
    )
    await store.save_state(state_a)
    await store.save_state(state_b)

    await store.checkpoint(GUILD_B, 30.0, paused=True)
    await store.save_state(GuildState(GUILD_B, voice_channel_id=2, queue=()))
    assert await store.load_state(GUILD_A) == state_a

    await store.forget_guild(GUILD_B)
    assert await store.load_state(GUILD_B) is None
    assert await store.load_states() == [state_a]
