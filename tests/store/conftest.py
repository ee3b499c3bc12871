"""Store fixtures: every store test runs against a real SQLite file and a real PostgreSQL server.

PostgreSQL comes from BRENT_TEST_POSTGRES_URL (``.ci/start-postgres`` prints one); each test gets
its own schema so tests never see each other's rows. Without a reachable server the PostgreSQL
variants are skipped with the reason shown, except in CI (CI=true), where that is a failure.
"""

from __future__ import annotations

import ipaddress
import os
import uuid
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

import asyncpg
import pytest

from bot.store.migrations import LATEST_VERSION
from bot.store.models import StoreLimits
from bot.store.postgres import PostgresStore
from bot.store.sql_store import SqlStore
from bot.store.sqlite import SqliteStore

DEFAULT_POSTGRES_URL = "postgresql://brent_test:brent_test@127.0.0.1:5432/brent_test"
_postgres_problem: list[str | None] = []


def postgres_url() -> str:
    url = os.environ.get("BRENT_TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL
    host = urlsplit(url).hostname or ""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:  # the tests may only talk to 127.0.0.1 / ::1
        pytest.fail("BRENT_TEST_POSTGRES_URL must point at 127.0.0.1 or ::1")
    return url


async def _postgres_reachable(url: str) -> str | None:
    if not _postgres_problem:
        try:
            conn = await asyncpg.connect(url, timeout=3)
            await conn.close()
            _postgres_problem.append(None)
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            _postgres_problem.append(f"{type(exc).__name__}: {exc}")
    return _postgres_problem[0]


async def require_postgres() -> str:
    url = postgres_url()
    problem = await _postgres_reachable(url)
    if problem is not None:
        reason = f"no PostgreSQL server at {urlsplit(url).netloc.split('@')[-1]} ({problem}); run .ci/start-postgres"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return url


@asynccontextmanager
async def postgres_schema() -> AsyncIterator[str]:
    """A URL whose search_path is a fresh schema, dropped afterwards."""
    url = await require_postgres()
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = await asyncpg.connect(url, timeout=5)
    try:
        await admin.execute(f"CREATE SCHEMA {schema}")
        yield f"{url}{'&' if '?' in url else '?'}search_path={schema}"
    finally:
        await admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await admin.close()


class StoreOpener(Protocol):
    """Opens another store on the same database (a second connection or pool)."""

    backend: str
    location: str

    def __call__(
        self, *, limits: StoreLimits | None = None, schema: int = LATEST_VERSION, busy_timeout: float = 5.0
    ) -> Awaitable[SqlStore]: ...


class _Opener:
    def __init__(self, backend: str, location: str) -> None:
        self.backend = backend
        self.location = location
        self.opened: list[SqlStore] = []

    async def __call__(
        self, *, limits: StoreLimits | None = None, schema: int = LATEST_VERSION, busy_timeout: float = 5.0
    ) -> SqlStore:
        store: SqlStore
        if self.backend == "sqlite":
            store = await SqliteStore.open(
                Path(self.location), limits=limits, schema=schema, busy_timeout=busy_timeout
            )
        else:
            store = await PostgresStore.open(self.location, limits=limits, schema=schema)
        self.opened.append(store)
        return store

    async def close_all(self) -> None:
        for store in self.opened:
            await store.close()


@pytest.fixture(params=["sqlite", "postgresql"])
async def open_db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[StoreOpener]:
    """Opens stores on one fresh database of each backend; every store is closed afterwards."""
    if request.param == "sqlite":
        opener = _Opener("sqlite", str(tmp_path / "brent.db"))
        try:
            yield opener
        finally:
            await opener.close_all()
        return
    async with postgres_schema() as url:
        opener = _Opener("postgresql", url)
        try:
            yield opener
        finally:
            await opener.close_all()


@pytest.fixture
async def store(open_db: StoreOpener) -> SqlStore:
    return await open_db()
