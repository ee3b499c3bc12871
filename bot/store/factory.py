"""Choose and open the backend named by DATABASE_URL (empty: the embedded SQLite file)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from audio.errors import StoreError
from bot.store.base import Store
from bot.store.errors import DatabaseUnavailable
from bot.store.models import StoreLimits
from bot.store.postgres import PostgresStore
from bot.store.sqlite import SqliteStore

log = logging.getLogger(__name__)

SQLITE_FILE_NAME = "brent.db"
_POSTGRES_SCHEMES = ("postgresql://", "postgres://")
_SQLITE_SCHEME = "sqlite:///"


async def open_store(database_url: str | None, data_dir: Path, *, limits: StoreLimits | None = None) -> Store:
    """Open (creating and migrating as needed) the store; raises StoreError with a clear message.

    ``database_url`` empty/None -> ``<data_dir>/brent.db``; ``sqlite:///path`` -> that file;
    ``postgresql://...`` (or ``postgres://``) -> PostgreSQL.
    """
    url = (database_url or "").strip()
    if url.lower().startswith(_POSTGRES_SCHEMES):
        log.info("Using PostgreSQL")
        return await PostgresStore.open(url, limits=limits)
    if url and not url.lower().startswith(_SQLITE_SCHEME):
        raise StoreError(
            "DATABASE_URL must start with postgresql:// (or be empty for the built-in SQLite file)."
        )
    path = Path(url[len(_SQLITE_SCHEME) :]) if url else Path(data_dir) / SQLITE_FILE_NAME
    try:
        await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
    except OSError as exc:
        detail = f"cannot create the data folder {path.parent}: {exc}"
        log.error("%s", detail)
        raise DatabaseUnavailable(detail) from exc
    log.info("Using SQLite at %s", path)
    return await SqliteStore.open(path, limits=limits)
