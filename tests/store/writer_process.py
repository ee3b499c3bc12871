"""A separate process writing to the test database, for cross-process concurrency and kill -9 tests.

Usage: python -m tests.store.writer_process <sqlite|postgresql> <location> <mode> <worker> <count>
Prints "ready", waits for a line on stdin, then writes; every committed write is reported on
stdout before the next one starts, so the parent knows what must have survived.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from bot.store import GuildState
from bot.store.postgres import PostgresStore
from bot.store.sql_store import SqlStore
from bot.store.sqlite import SqliteStore
from tests.store.support import make_track

GUILD = 424_242_424_242_424_242
OWNER = 1
PLAYLIST = "shared"


def state_number(n: int) -> GuildState:
    """The n-th snapshot: current track n, a queue of tracks 0..n-1, position n seconds."""
    return GuildState(
        GUILD,
        voice_channel_id=99,
        current=make_track(n),
        position=float(n),
        queue=tuple(make_track(k) for k in range(n)),
    )


async def _open(backend: str, location: str) -> SqlStore:
    if backend == "sqlite":
        return await SqliteStore.open(Path(location), busy_timeout=30.0)
    return await PostgresStore.open(location)


async def main(backend: str, location: str, mode: str, worker: int, count: int) -> None:
    store = await _open(backend, location)
    print("ready", flush=True)
    await asyncio.to_thread(sys.stdin.readline)
    try:
        for i in range(count):
            if mode == "add":
                track = make_track(worker * 10_000 + i)
                await store.add_tracks(GUILD, PLAYLIST, [track], user_id=OWNER, can_manage=False)
            else:  # "state": alternate snapshots and checkpoints, forever if asked
                await store.save_state(state_number(i))
                await store.checkpoint(GUILD, i + 0.5, paused=False)
            print(f"committed {i}", flush=True)
    finally:
        await store.close()


if __name__ == "__main__":
    backend, location, mode, worker, count = sys.argv[1:6]
    asyncio.run(main(backend, location, mode, int(worker), int(count)))
