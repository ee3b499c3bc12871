"""The embedded backend: one SQLite file in WAL mode, driven through aiosqlite's worker thread.

Two connections per store (one writes, one reads), each guarded by an asyncio.Lock so concurrent
coroutines never interleave inside one transaction; writes open with ``BEGIN IMMEDIATE`` so two
processes on the same file queue on SQLite's write lock (up to the busy timeout) instead of
failing half-way.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any, Self

import aiosqlite

from bot.store.driver import Driver, DuplicateKey, Row, Transaction
from bot.store.errors import DatabaseUnavailable
from bot.store.migrations import LATEST_VERSION
from bot.store.models import StoreLimits
from bot.store.sql_store import SqlStore

log = logging.getLogger(__name__)

DEFAULT_BUSY_TIMEOUT = 5.0


class _SqliteTransaction(Transaction):
    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._conn = connection

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        async with self._conn.execute(sql, args) as cursor:
            return list(await cursor.fetchall())

    async def fetchrow(self, sql: str, *args: Any) -> Row | None:
        async with self._conn.execute(sql, args) as cursor:
            return await cursor.fetchone()

    async def execute(self, sql: str, *args: Any) -> None:
        async with self._conn.execute(sql, args):
            pass

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        async with self._conn.executemany(sql, rows):
            pass

    async def lock(self, key: int) -> None:
        """Nothing to do: ``BEGIN IMMEDIATE`` already holds the database's single write lock."""


WAL_RETRY_PAUSE = 0.02


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    return (getattr(exc, "sqlite_errorcode", 0) & 0xFF) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


async def _enter_wal(connection: aiosqlite.Connection, busy_timeout: float) -> sqlite3.Row | None:
    """Switching a fresh file to WAL needs an exclusive lock, and SQLite answers BUSY at once, without
    its busy handler, when two connections race for it (deadlock avoidance), so several processes
    starting on a new file retry here for up to the busy timeout."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + busy_timeout
    while True:
        try:
            async with connection.execute("PRAGMA journal_mode = WAL") as cursor:
                return await cursor.fetchone()
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc) or loop.time() >= deadline:
                raise
        await asyncio.sleep(WAL_RETRY_PAUSE)


async def _open_connection(path: Path, busy_timeout: float) -> aiosqlite.Connection:
    connection = await aiosqlite.connect(path, isolation_level=None, timeout=busy_timeout)
    try:
        await connection.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        mode = await _enter_wal(connection, busy_timeout)
        if mode is None or str(mode[0]).lower() != "wal":
            log.warning("SQLite at %s stays in journal mode %s, not WAL", path, mode and mode[0])
        await connection.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL survives kill -9
        await connection.execute("PRAGMA foreign_keys = ON")
    except BaseException:
        await connection.close()
        raise
    return connection


class _Channel:
    """One aiosqlite connection and the lock that keeps its transactions from interleaving."""

    def __init__(self, connection: aiosqlite.Connection, path: Path) -> None:
        self._conn = connection
        self._path = path
        self._lock = asyncio.Lock()

    def _unavailable(self, exc: BaseException) -> DatabaseUnavailable:
        detail = f"SQLite database {self._path}: {exc}"
        log.error("%s", detail)
        return DatabaseUnavailable(detail)

    async def _rollback(self) -> None:
        try:
            await self._conn.execute("ROLLBACK")
        except sqlite3.Error as exc:  # e.g. nothing to roll back, or SQLite already did after an I/O error
            log.debug("ROLLBACK failed: %s", exc)

    @asynccontextmanager
    async def transaction(self, begin: str) -> AsyncIterator[Transaction]:
        async with self._lock:
            try:
                await self._conn.execute(begin)
            except sqlite3.Error as exc:
                raise self._unavailable(exc) from exc
            except BaseException:  # cancelled: the worker thread still runs BEGIN, so undo it
                await self._rollback()
                raise
            try:
                yield _SqliteTransaction(self._conn)
            except sqlite3.IntegrityError as exc:
                await self._rollback()
                if "UNIQUE" in str(exc).upper():
                    raise DuplicateKey(str(exc)) from exc
                raise self._unavailable(exc) from exc
            except sqlite3.Error as exc:
                await self._rollback()
                raise self._unavailable(exc) from exc
            except BaseException:
                await self._rollback()
                raise
            try:
                await self._conn.execute("COMMIT")
            except sqlite3.Error as exc:
                await self._rollback()
                raise self._unavailable(exc) from exc
            except BaseException:  # cancelled: COMMIT still runs; never leave a transaction open
                await self._rollback()
                raise

    async def close(self) -> None:
        async with self._lock:
            await self._conn.close()


class SqliteDriver(Driver):
    """A writing and a reading connection: in WAL mode reads never wait for a write (even one stuck
    on another process's lock), so listing playlists and restoring state stay responsive."""

    dialect = "sqlite"

    def __init__(self, writer: aiosqlite.Connection, reader: aiosqlite.Connection, path: Path) -> None:
        self._writer = _Channel(writer, path)
        self._reader = _Channel(reader, path)
        self._closed = False

    @classmethod
    async def connect(cls, path: Path, *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT) -> SqliteDriver:
        opened: list[aiosqlite.Connection] = []
        try:
            for _ in range(2):
                opened.append(await _open_connection(path, busy_timeout))
        except (sqlite3.Error, OSError) as exc:
            for connection in opened:
                await connection.close()
            detail = f"cannot open the SQLite database {path}: {exc}"
            log.error("%s", detail)
            raise DatabaseUnavailable(detail) from exc
        return cls(opened[0], opened[1], path)

    def transaction(self, *, write: bool = True) -> AbstractAsyncContextManager[Transaction]:
        if write:
            return self._writer.transaction("BEGIN IMMEDIATE")
        return self._reader.transaction("BEGIN")

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            await self._writer.close()
            await self._reader.close()


class SqliteStore(SqlStore):
    """The default store: a file under the data folder, created with its schema on first start."""

    @classmethod
    async def open(
        cls,
        path: Path,
        *,
        limits: StoreLimits | None = None,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
        schema: int = LATEST_VERSION,
    ) -> Self:
        """Connect and migrate; ``schema`` below the latest exists only to build old databases in tests."""
        driver = await SqliteDriver.connect(path, busy_timeout=busy_timeout)
        return await cls._migrated(driver, limits=limits, schema=schema)
