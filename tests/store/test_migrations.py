"""The versioned schema: from empty, from the previous version, re-runs, and a newer database refused."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from bot.store import GuildState, SchemaTooNew
from bot.store.migrations import LATEST_VERSION, MIGRATIONS, migrate, schema_version
from bot.store.sql_store import SqlStore
from bot.store.sqlite import SqliteStore
from tests.store.conftest import StoreOpener
from tests.store.support import make_track, raw_sql

GUILD = 777


async def _tables(store: SqlStore) -> list[str]:
    run = raw_sql(store)
    if store._driver.dialect == "sqlite":
        rows = await run("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    else:
        rows = await run("SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = current_schema()")
    return sorted(row[0] for row in rows)


async def _dump(store: SqlStore) -> dict[str, Any]:
    """Every table's rows, to show a refused database was left exactly as it was."""
    run = raw_sql(store)
    dump: dict[str, Any] = {}
    for table in await _tables(store):
        dump[table] = sorted(tuple(row) for row in await run(f"SELECT * FROM {table}"))
    return dump


def test_versions_increase() -> None:
    versions = [m.version for m in MIGRATIONS]
    assert versions[0] == 1 and versions == sorted(set(versions))
    assert all(len(m.sqlite) == len(m.postgresql) for m in MIGRATIONS)


async def test_empty_database_is_created_at_the_latest_version(open_db: StoreOpener) -> None:
    store = await open_db()
    assert await schema_version(store._driver) == LATEST_VERSION
    assert await _tables(store) == [
        "blocked_users",
        "bot_values",
        "guild_settings",
        "guild_state",
        "play_history",
        "playlist_tracks",
        "playlists",
        "queue_entries",
        "schema_version",
        "undo_entries",
        "undo_steps",
    ]


async def test_rerunning_migrations_changes_nothing(open_db: StoreOpener) -> None:
    store = await open_db()
    await store.save_playlist(GUILD, "keep", [make_track(1)], owner_id=1)
    await store.save_state(GuildState(GUILD, current=make_track(2), position=4.0))
    before = await _dump(store)
    assert await migrate(store._driver) == LATEST_VERSION
    await store.close()
    again = await open_db()
    assert await migrate(again._driver) == LATEST_VERSION
    assert await _dump(again) == before


async def test_upgrade_from_version_1_keeps_playlists(open_db: StoreOpener) -> None:
    old = await open_db(schema=1)
    assert await schema_version(old._driver) == 1
    assert "guild_state" not in await _tables(old)
    await old.save_playlist(GUILD, "Old times", [make_track(1), make_track(2)], owner_id=5)
    await old.close()

    new = await open_db()
    assert await schema_version(new._driver) == LATEST_VERSION
    playlist, tracks = await new.playlist_tracks(GUILD, "old times")
    assert (playlist.name, playlist.owner_id, tracks) == ("Old times", 5, [make_track(1), make_track(2)])
    await new.save_state(GuildState(GUILD, queue=(make_track(3),)))
    assert (await new.load_state(GUILD)) == GuildState(GUILD, queue=(make_track(3),))


async def test_newer_database_is_refused_untouched(open_db: StoreOpener) -> None:
    store = await open_db()
    await store.save_playlist(GUILD, "precious", [make_track(1)], owner_id=1)
    run = raw_sql(store)
    await run("UPDATE schema_version SET version = ?", LATEST_VERSION + 7)
    await run("CREATE TABLE from_the_future (x INTEGER)")
    before = await _dump(store)

    with pytest.raises(SchemaTooNew) as caught:
        await open_db()
    assert caught.value.user_message == (
        f"This database was created by a newer BRENT (schema {LATEST_VERSION + 7}); "
        "upgrade BRENT or point DATABASE_URL elsewhere."
    )
    with pytest.raises(SchemaTooNew):
        await migrate(store._driver)
    assert await _dump(store) == before


async def test_two_processes_starting_at_once_migrate_once(open_db: StoreOpener) -> None:
    stores = await asyncio.gather(open_db(), open_db(), open_db())
    for store in stores:
        assert await schema_version(store._driver) == LATEST_VERSION
    assert await raw_sql(stores[0])("SELECT version FROM schema_version") == [(LATEST_VERSION,)]


async def test_released_v1_sqlite_file_upgrades(tmp_path: Path) -> None:
    """A frozen schema-1 database (not built by today's code) opens, upgrades and keeps its data."""
    path = tmp_path / "brent.db"
    script = (Path(__file__).parent / "fixtures" / "brent_v1_sqlite.sql").read_text()
    with sqlite3.connect(path) as db:
        db.executescript(script)
    store = await SqliteStore.open(path)
    try:
        assert await schema_version(store._driver) == LATEST_VERSION
        playlist, tracks = await store.playlist_tracks(4242, "old favourites")
        assert (playlist.name, playlist.owner_id, tracks) == (
            "Old Favourites",
            77,
            [make_track(1), make_track(2)],
        )
        added = await store.add_tracks(4242, "Old Favourites", [make_track(3)], user_id=77, can_manage=False)
        assert added.track_count == 3
        await store.save_state(GuildState(4242, queue=tuple(tracks)))
        assert (await store.load_state(4242)) == GuildState(4242, queue=tuple(tracks))
    finally:
        await store.close()


async def test_migration_1_still_builds_the_released_schema(tmp_path: Path) -> None:
    """Editing a released migration would fork existing databases from new ones; this catches it."""

    def schema_of(path: Path) -> list[tuple[str, str]]:
        with sqlite3.connect(path) as db:
            rows = db.execute("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name")
            return [(name, " ".join(sql.split())) for name, sql in rows]

    released = tmp_path / "released.db"
    with sqlite3.connect(released) as db:
        db.executescript((Path(__file__).parent / "fixtures" / "brent_v1_sqlite.sql").read_text())
    store = await SqliteStore.open(tmp_path / "today.db", schema=1)
    await store.close()
    assert schema_of(tmp_path / "today.db") == schema_of(released)
