"""The small seam between the store's logic and a database driver.

``SqlStore`` writes its SQL once, with ``?`` placeholders, against this interface; each backend
supplies transactions and maps its own errors: a unique-key clash becomes ``DuplicateKey`` and
everything else the driver raises becomes ``DatabaseUnavailable``.
"""

from __future__ import annotations

import abc
import logging
from collections.abc import Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

log = logging.getLogger(__name__)

Row = Sequence[Any]

# Key for the lock that serialises migrations between processes (far below any Discord snowflake).
MIGRATION_LOCK_KEY = 0x42524E54


class DuplicateKey(Exception):
    """A unique constraint refused a write; SqlStore turns it into a user-facing error."""


class Transaction(abc.ABC):
    """One open transaction. Methods raise driver errors; the owning context manager maps them."""

    @abc.abstractmethod
    async def fetch(self, sql: str, *args: Any) -> list[Row]: ...

    @abc.abstractmethod
    async def fetchrow(self, sql: str, *args: Any) -> Row | None: ...

    async def fetchval(self, sql: str, *args: Any) -> Any:
        row = await self.fetchrow(sql, *args)
        return None if row is None else row[0]

    @abc.abstractmethod
    async def execute(self, sql: str, *args: Any) -> None: ...

    @abc.abstractmethod
    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None: ...

    @abc.abstractmethod
    async def lock(self, key: int) -> None:
        """Serialise with other transactions taking the same key, until this one ends."""


class Driver(abc.ABC):
    dialect: str  # "sqlite" or "postgresql": picks the migration SQL

    @abc.abstractmethod
    def transaction(self, *, write: bool = True) -> AbstractAsyncContextManager[Transaction]:
        """Commit on success, roll back on any exception."""

    @abc.abstractmethod
    async def close(self) -> None: ...
