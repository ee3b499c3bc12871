"""The PostgreSQL backend, chosen by DATABASE_URL=postgresql://...; same behaviour as SQLite.

asyncpg speaks the protocol natively on the event loop (nothing blocks). Writes that must see a
consistent guild take ``pg_advisory_xact_lock(guild_id)``, the counterpart of SQLite's write lock.
"""

from __future__ import annotations

import functools
import itertools
import logging
import re
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Any, Self
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from bot.store.driver import Driver, DuplicateKey, Row, Transaction
from bot.store.errors import DatabaseUnavailable
from bot.store.migrations import LATEST_VERSION
from bot.store.models import StoreLimits
from bot.store.sql_store import SqlStore

log = logging.getLogger(__name__)

_DRIVER_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError)


def redact_url(url: str) -> str:
    """The URL with its password replaced, fit for logs."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
        return urlunsplit(parts._replace(netloc=netloc))
    except ValueError:
        return "<unparsable URL>"


@functools.lru_cache(maxsize=256)
def numbered_placeholders(sql: str) -> str:
    """``?`` placeholders (the store's SQL) to asyncpg's ``$1, $2, ...``."""
    counter = itertools.count(1)
    return re.sub(r"\?", lambda _: f"${next(counter)}", sql)


class _PostgresTransaction(Transaction):
    def __init__(self, connection: asyncpg.Connection) -> None:
        self._conn = connection

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        return list(await self._conn.fetch(numbered_placeholders(sql), *args))

    async def fetchrow(self, sql: str, *args: Any) -> Row | None:
        row: Row | None = await self._conn.fetchrow(numbered_placeholders(sql), *args)
        return row

    async def execute(self, sql: str, *args: Any) -> None:
        await self._conn.execute(numbered_placeholders(sql), *args)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        await self._conn.executemany(numbered_placeholders(sql), list(rows))

    async def lock(self, key: int) -> None:
        await self._conn.execute("SELECT pg_advisory_xact_lock($1::bigint)", key)


class PostgresDriver(Driver):
    dialect = "postgresql"

    def __init__(self, pool: asyncpg.Pool, url: str, *, acquire_timeout: float) -> None:
        self._pool = pool
        self._where = redact_url(url)
        self._acquire_timeout = acquire_timeout
        self._closed = False

    @classmethod
    async def connect(cls, url: str, *, timeout: float = 10.0, max_connections: int = 4) -> PostgresDriver:
        try:
            pool = await asyncpg.create_pool(
                url,
                min_size=1,
                max_size=max_connections,
                timeout=timeout,
                command_timeout=timeout,
                server_settings={"application_name": "brent"},
            )
        except (*_DRIVER_ERRORS, ValueError) as exc:
            detail = f"cannot connect to PostgreSQL at {redact_url(url)}: {type(exc).__name__}: {exc}"
            log.error("%s", detail)
            raise DatabaseUnavailable(detail) from exc
        return cls(pool, url, acquire_timeout=timeout)

    @asynccontextmanager
    async def transaction(self, *, write: bool = True) -> AsyncIterator[Transaction]:
        try:
            async with (
                self._pool.acquire(timeout=self._acquire_timeout) as conn,
                conn.transaction(readonly=not write),
            ):
                yield _PostgresTransaction(conn)
        except asyncpg.UniqueViolationError as exc:
            raise DuplicateKey(str(exc)) from exc
        except _DRIVER_ERRORS as exc:
            detail = f"PostgreSQL at {self._where}: {type(exc).__name__}: {exc}"
            log.error("%s", detail)
            raise DatabaseUnavailable(detail) from exc

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            await self._pool.close()


class PostgresStore(SqlStore):
    @classmethod
    async def open(
        cls,
        url: str,
        *,
        limits: StoreLimits | None = None,
        timeout: float = 10.0,
        schema: int = LATEST_VERSION,
    ) -> Self:
        """Connect and migrate; ``schema`` below the latest exists only to build old databases in tests."""
        driver = await PostgresDriver.connect(url, timeout=timeout)
        return await cls._migrated(driver, limits=limits, schema=schema)
