"""open_store picks the backend from DATABASE_URL and needs no set-up for the default."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from audio.errors import StoreError
from bot.store import SQLITE_FILE_NAME, open_store
from bot.store.postgres import PostgresStore, numbered_placeholders, redact_url
from bot.store.sqlite import SqliteStore
from tests.store.conftest import postgres_schema


async def test_default_is_a_wal_sqlite_file_created_on_first_start(tmp_path: Path) -> None:
    data_dir = tmp_path / "fresh" / "data"
    store = await open_store(None, data_dir)
    try:
        assert isinstance(store, SqliteStore)
        await store.create_playlist(1, "first", owner_id=1)
        with sqlite3.connect(data_dir / SQLITE_FILE_NAME) as check:
            assert check.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        await store.close()
    reopened = await open_store("", data_dir)
    assert [p.name for p in await reopened.list_playlists(1)] == ["first"]
    await reopened.close()


async def test_sqlite_url_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "elsewhere.sqlite3"
    store = await open_store(f"sqlite:///{path}", tmp_path / "unused")
    await store.close()
    assert path.exists()
    assert not (tmp_path / "unused").exists()


async def test_postgres_url_selects_postgres() -> None:
    async with postgres_schema() as url:
        store = await open_store(url, Path("unused"))
        try:
            assert isinstance(store, PostgresStore)
            assert (await store.create_playlist(1, "pg", owner_id=1)).name == "pg"
        finally:
            await store.close()


async def test_unknown_scheme_is_refused_without_echoing_the_url(tmp_path: Path) -> None:
    with pytest.raises(StoreError) as caught:
        await open_store("mysql://root:secret@127.0.0.1/brent", tmp_path)
    assert "postgresql://" in caught.value.user_message
    assert "secret" not in caught.value.user_message


def test_helpers_for_postgres() -> None:
    assert numbered_placeholders("a = ? AND b IN (?, ?)") == "a = $1 AND b IN ($2, $3)"
    assert redact_url("postgresql://u:pw@127.0.0.1:5432/db") == "postgresql://u:***@127.0.0.1:5432/db"
    assert redact_url("postgresql://127.0.0.1/db") == "postgresql://127.0.0.1/db"
