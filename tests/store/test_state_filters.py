"""Audio filters in the saved player state, on both backends: saved, restored, upgraded, repaired."""

from __future__ import annotations

import logging

import pytest

from audio.filters import NO_FILTERS, Filters, Style
from bot.store import GuildState
from bot.store.sql_store import SqlStore
from tests.store.conftest import StoreOpener
from tests.store.support import make_track, raw_sql

GUILD = 444_444_444_444_444_444
FILTERS = Filters(
    bass=4, speed=1.5, pitch=-2, style=Style.NIGHTCORE, equalizer="rock", karaoke=True, eight_d=True
)


async def test_filters_round_trip_across_a_restart(open_db: StoreOpener) -> None:
    store = await open_db()
    state = GuildState(GUILD, volume=80, current=make_track(1), position=3.0, filters=FILTERS)
    await store.save_state(state)
    await store.checkpoint(GUILD, 9.0, paused=False)  # a checkpoint keeps them
    await store.close()
    reopened = await open_db()
    loaded = await reopened.load_state(GUILD)
    assert loaded is not None and loaded.filters == FILTERS and loaded.position == 9.0


async def test_clearing_filters_is_saved(store: SqlStore) -> None:
    await store.save_state(GuildState(GUILD, filters=FILTERS))
    await store.save_state(GuildState(GUILD))
    loaded = await store.load_state(GUILD)
    assert loaded is not None and loaded.filters == NO_FILTERS


async def test_a_database_from_before_filters_upgrades_to_none(open_db: StoreOpener) -> None:
    old = await open_db(schema=2)
    await raw_sql(old)(
        "INSERT INTO guild_state (guild_id, loop_mode, volume, position, paused, updated_at) "
        "VALUES (?, 'track', 70, 0, ?, 0)",
        GUILD,
        False,
    )
    await old.close()
    new = await open_db()
    loaded = await new.load_state(GUILD)
    assert loaded is not None and (loaded.loop_mode, loaded.volume, loaded.filters) == (
        "track",
        70,
        NO_FILTERS,
    )


async def test_damaged_saved_filters_keep_what_is_sound(
    store: SqlStore, caplog: pytest.LogCaptureFixture
) -> None:
    await store.save_state(GuildState(GUILD, filters=FILTERS))
    await raw_sql(store)(
        "UPDATE guild_state SET filters = 'bass=99 speed=1.25 ; DROP' WHERE guild_id = ?", GUILD
    )
    with caplog.at_level(logging.WARNING):
        loaded = await store.load_state(GUILD)
    assert loaded is not None and loaded.filters == Filters(speed=1.25)
    assert sum("damaged" in r.getMessage() for r in caplog.records) == 3
