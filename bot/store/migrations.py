"""The versioned schema: ordered steps per backend, applied at start-up, each exactly once.

``schema_version`` holds one row with the version the database is at. Versions only grow; a
number may be skipped (each step runs when the database is below it). Steps run inside one
transaction with the version bump, so a crash mid-migration leaves the old version intact. A
database at a higher version than this code knows is refused untouched (``SchemaTooNew``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.store.driver import MIGRATION_LOCK_KEY, Driver, Transaction
from bot.store.errors import SchemaTooNew

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    description: str
    sqlite: tuple[str, ...]
    postgresql: tuple[str, ...]

    def statements(self, dialect: str) -> tuple[str, ...]:
        return self.sqlite if dialect == "sqlite" else self.postgresql


def _track_columns(*, integer: str, real: str) -> str:
    return (
        "title TEXT NOT NULL, page_url TEXT NOT NULL, "
        f"duration {real}, uploader TEXT, thumbnail TEXT, provider TEXT NOT NULL, requester_id {integer}"
    )


_SQLITE_TRACK = _track_columns(integer="INTEGER", real="REAL")
_PG_TRACK = _track_columns(integer="BIGINT", real="DOUBLE PRECISION")

MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "playlists",
        sqlite=(
            """CREATE TABLE playlists (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                guild_id INTEGER NOT NULL,
                name TEXT NOT NULL,
                name_key TEXT NOT NULL,
                owner_id INTEGER NOT NULL,
                created_at REAL NOT NULL,
                UNIQUE (guild_id, name_key),
                UNIQUE (id, guild_id))""",
            f"""CREATE TABLE playlist_tracks (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                playlist_id INTEGER NOT NULL,
                guild_id INTEGER NOT NULL,
                {_SQLITE_TRACK},
                FOREIGN KEY (playlist_id, guild_id) REFERENCES playlists (id, guild_id) ON DELETE CASCADE)""",
            "CREATE INDEX playlist_tracks_order ON playlist_tracks (playlist_id, id)",
            "CREATE INDEX playlist_tracks_guild ON playlist_tracks (guild_id)",
        ),
        postgresql=(
            """CREATE TABLE playlists (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                guild_id BIGINT NOT NULL,
                name TEXT NOT NULL,
                name_key TEXT NOT NULL,
                owner_id BIGINT NOT NULL,
                created_at DOUBLE PRECISION NOT NULL,
                UNIQUE (guild_id, name_key),
                UNIQUE (id, guild_id))""",
            f"""CREATE TABLE playlist_tracks (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                playlist_id BIGINT NOT NULL,
                guild_id BIGINT NOT NULL,
                {_PG_TRACK},
                FOREIGN KEY (playlist_id, guild_id) REFERENCES playlists (id, guild_id) ON DELETE CASCADE)""",
            "CREATE INDEX playlist_tracks_order ON playlist_tracks (playlist_id, id)",
            "CREATE INDEX playlist_tracks_guild ON playlist_tracks (guild_id)",
        ),
    ),
    Migration(
        2,
        "player state and queue",
        sqlite=(
            """CREATE TABLE guild_state (
                guild_id INTEGER PRIMARY KEY,
                voice_channel_id INTEGER,
                text_channel_id INTEGER,
                loop_mode TEXT NOT NULL DEFAULT 'off',
                volume INTEGER NOT NULL DEFAULT 100,
                position REAL NOT NULL DEFAULT 0,
                paused INTEGER NOT NULL DEFAULT 0,
                updated_at REAL NOT NULL)""",
            f"""CREATE TABLE queue_entries (
                guild_id INTEGER NOT NULL REFERENCES guild_state (guild_id) ON DELETE CASCADE,
                slot INTEGER NOT NULL,
                {_SQLITE_TRACK},
                PRIMARY KEY (guild_id, slot))""",
        ),
        postgresql=(
            """CREATE TABLE guild_state (
                guild_id BIGINT PRIMARY KEY,
                voice_channel_id BIGINT,
                text_channel_id BIGINT,
                loop_mode TEXT NOT NULL DEFAULT 'off',
                volume INTEGER NOT NULL DEFAULT 100,
                position DOUBLE PRECISION NOT NULL DEFAULT 0,
                paused BOOLEAN NOT NULL DEFAULT FALSE,
                updated_at DOUBLE PRECISION NOT NULL)""",
            f"""CREATE TABLE queue_entries (
                guild_id BIGINT NOT NULL REFERENCES guild_state (guild_id) ON DELETE CASCADE,
                slot INTEGER NOT NULL,
                {_PG_TRACK},
                PRIMARY KEY (guild_id, slot))""",
        ),
    ),
    Migration(
        3,
        "audio filters in the player state",
        sqlite=("ALTER TABLE guild_state ADD COLUMN filters TEXT NOT NULL DEFAULT ''",),
        postgresql=("ALTER TABLE guild_state ADD COLUMN filters TEXT NOT NULL DEFAULT ''",),
    ),
    Migration(
        4,
        "server settings, blocked members, bot values",
        sqlite=(
            """CREATE TABLE guild_settings (
                guild_id INTEGER NOT NULL,
                name TEXT NOT NULL,
                value TEXT NOT NULL,
                PRIMARY KEY (guild_id, name))""",
            """CREATE TABLE blocked_users (
                guild_id INTEGER NOT NULL,
                user_id INTEGER NOT NULL,
                PRIMARY KEY (guild_id, user_id))""",
            "CREATE TABLE bot_values (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
        ),
        postgresql=(
            """CREATE TABLE guild_settings (
                guild_id BIGINT NOT NULL,
                name TEXT NOT NULL,
                value TEXT NOT NULL,
                PRIMARY KEY (guild_id, name))""",
            """CREATE TABLE blocked_users (
                guild_id BIGINT NOT NULL,
                user_id BIGINT NOT NULL,
                PRIMARY KEY (guild_id, user_id))""",
            "CREATE TABLE bot_values (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
        ),
    ),
    Migration(
        5,
        "play history and the undo step",
        sqlite=(
            f"""CREATE TABLE play_history (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                guild_id INTEGER NOT NULL,
                played_at REAL NOT NULL,
                {_SQLITE_TRACK})""",
            "CREATE INDEX play_history_guild ON play_history (guild_id, id)",
            """CREATE TABLE undo_steps (
                guild_id INTEGER PRIMARY KEY,
                kind TEXT NOT NULL,
                member_id INTEGER,
                created_at REAL NOT NULL)""",
            f"""CREATE TABLE undo_entries (
                guild_id INTEGER NOT NULL REFERENCES undo_steps (guild_id) ON DELETE CASCADE,
                side TEXT NOT NULL,
                slot INTEGER NOT NULL,
                {_SQLITE_TRACK},
                PRIMARY KEY (guild_id, side, slot))""",
        ),
        postgresql=(
            f"""CREATE TABLE play_history (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                guild_id BIGINT NOT NULL,
                played_at DOUBLE PRECISION NOT NULL,
                {_PG_TRACK})""",
            "CREATE INDEX play_history_guild ON play_history (guild_id, id)",
            """CREATE TABLE undo_steps (
                guild_id BIGINT PRIMARY KEY,
                kind TEXT NOT NULL,
                member_id BIGINT,
                created_at DOUBLE PRECISION NOT NULL)""",
            f"""CREATE TABLE undo_entries (
                guild_id BIGINT NOT NULL REFERENCES undo_steps (guild_id) ON DELETE CASCADE,
                side TEXT NOT NULL,
                slot INTEGER NOT NULL,
                {_PG_TRACK},
                PRIMARY KEY (guild_id, side, slot))""",
        ),
    ),
)

LATEST_VERSION = MIGRATIONS[-1].version

_VERSION_TABLE = "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"


async def _version_table_exists(tx: Transaction, dialect: str) -> bool:
    if dialect == "sqlite":
        sql = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
    else:
        sql = "SELECT COUNT(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema() AND tablename = 'schema_version'"
    return bool(await tx.fetchval(sql))


async def _current_version(tx: Transaction, dialect: str) -> int:
    if not await _version_table_exists(tx, dialect):
        return 0
    return int(await tx.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_version"))


async def schema_version(driver: Driver) -> int:
    """The version the database is at (0 when empty), without changing anything."""
    async with driver.transaction(write=False) as tx:
        return await _current_version(tx, driver.dialect)


async def migrate(driver: Driver, *, target: int = LATEST_VERSION) -> int:
    """Bring the schema up to ``target`` and return the version reached.

    Safe to run again and from two processes at once; a database past ``LATEST_VERSION`` raises
    SchemaTooNew before anything is written.
    """
    found = await schema_version(driver)
    if found > LATEST_VERSION:
        raise SchemaTooNew(found, LATEST_VERSION)
    if found >= target:
        return found
    async with driver.transaction() as tx:
        await tx.lock(MIGRATION_LOCK_KEY)
        found = await _current_version(tx, driver.dialect)  # another process may have migrated meanwhile
        if found > LATEST_VERSION:
            raise SchemaTooNew(found, LATEST_VERSION)
        if found == 0:
            await tx.execute(_VERSION_TABLE)
            await tx.execute("INSERT INTO schema_version (version) VALUES (0)")
        for step in MIGRATIONS:
            if found < step.version <= target:
                log.info("Migrating the database to schema %d (%s)", step.version, step.description)
                for statement in step.statements(driver.dialect):
                    await tx.execute(statement)
                await tx.execute("UPDATE schema_version SET version = ?", step.version)
                found = step.version
    return found
