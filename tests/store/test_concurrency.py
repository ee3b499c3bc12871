"""Concurrent writers lose nothing: coroutines, separate connections and separate processes."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from audio.errors import LimitReached
from bot.store import PlaylistNameTaken, StoreLimits
from tests.store.conftest import StoreOpener
from tests.store.support import make_track
from tests.store.writer_process import GUILD, OWNER, PLAYLIST, state_number

ROOT = Path(__file__).resolve().parents[2]


async def test_many_coroutines_adding_to_one_playlist_lose_nothing(open_db: StoreOpener) -> None:
    first, second = await open_db(), await open_db()  # two connections (SQLite) / pools (PostgreSQL)
    await first.create_playlist(GUILD, PLAYLIST, owner_id=OWNER)
    tracks = [make_track(n) for n in range(60)]
    await asyncio.gather(
        *(
            (first if n % 2 else second).add_tracks(GUILD, PLAYLIST, [t], user_id=OWNER, can_manage=False)
            for n, t in enumerate(tracks)
        )
    )
    _, stored = await first.playlist_tracks(GUILD, PLAYLIST)
    assert sorted(stored, key=lambda t: t.page_url) == tracks


async def test_racing_creates_of_one_name_make_exactly_one_playlist(open_db: StoreOpener) -> None:
    stores = [await open_db(), await open_db()]
    names = ["Party", "PARTY", "party", " party", "pArTy", "Party "] * 2
    results = await asyncio.gather(
        *(stores[n % 2].create_playlist(GUILD, name, owner_id=n) for n, name in enumerate(names)),
        return_exceptions=True,
    )
    created = [r for r in results if not isinstance(r, BaseException)]
    assert len(created) == 1
    assert all(isinstance(r, PlaylistNameTaken) for r in results if r is not created[0])
    assert [p.id for p in await stores[0].list_playlists(GUILD)] == [created[0].id]


async def test_racing_writers_cannot_overshoot_the_caps(open_db: StoreOpener) -> None:
    limits = StoreLimits(max_playlist_tracks=10, max_guild_playlists=4)
    stores = [await open_db(limits=limits), await open_db(limits=limits)]
    creates = await asyncio.gather(
        *(stores[n % 2].create_playlist(GUILD, f"list {n}", owner_id=OWNER) for n in range(12)),
        return_exceptions=True,
    )
    assert sum(not isinstance(r, BaseException) for r in creates) == 4
    assert sum(isinstance(r, LimitReached) for r in creates) == 8

    name = (await stores[0].list_playlists(GUILD))[0].name
    adds = await asyncio.gather(
        *(
            stores[n % 2].add_tracks(GUILD, name, [make_track(n)], user_id=OWNER, can_manage=False)
            for n in range(25)
        ),
        return_exceptions=True,
    )
    assert sum(not isinstance(r, BaseException) for r in adds) == 10
    assert sum(isinstance(r, LimitReached) for r in adds) == 15
    assert (await stores[1].get_playlist(GUILD, name)).track_count == 10


async def _spawn(open_db: StoreOpener, mode: str, worker: int, count: int) -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.store.writer_process",
        open_db.backend,
        open_db.location,
        mode,
        str(worker),
        str(count),
        cwd=ROOT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    assert await asyncio.wait_for(process.stdout.readline(), 30) == b"ready\n"
    return process


def _go(process: asyncio.subprocess.Process) -> None:
    assert process.stdin is not None
    process.stdin.write(b"go\n")


async def test_separate_processes_adding_at_once_lose_nothing(open_db: StoreOpener) -> None:
    store = await open_db()
    await store.create_playlist(GUILD, PLAYLIST, owner_id=OWNER)
    processes = [await _spawn(open_db, "add", worker, 15) for worker in (1, 2, 3)]
    for process in processes:  # released together once all are connected
        _go(process)
    for process in processes:
        await asyncio.wait_for(process.communicate(), 60)
        assert process.returncode == 0
    _, stored = await store.playlist_tracks(GUILD, PLAYLIST)
    expected = {make_track(worker * 10_000 + i).page_url for worker in (1, 2, 3) for i in range(15)}
    assert {t.page_url for t in stored} == expected
    assert len(stored) == 45


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")
async def test_kill_9_loses_no_committed_snapshot(open_db: StoreOpener) -> None:
    """Whatever the moment of the kill, the saved state is a whole snapshot at least as new as the
    last one the writer reported committed."""
    await open_db()  # the schema exists before the writer starts
    process = await _spawn(open_db, "state", 0, 1_000_000)
    _go(process)
    assert process.stdout is not None
    committed = -1
    while committed < 25:
        line = await asyncio.wait_for(process.stdout.readline(), 30)
        committed = int(line.split()[1])
    process.send_signal(signal.SIGKILL)
    rest, _ = await asyncio.wait_for(process.communicate(), 30)
    for line in rest.splitlines():  # reports flushed before the kill landed
        committed = int(line.split()[1])
    assert process.returncode == -signal.SIGKILL

    state = await (await open_db()).load_state(GUILD)
    assert state is not None and state.current is not None
    n = int(state.current.title.split()[1])
    assert n >= committed
    assert state.queue == state_number(n).queue  # no entry lost, no half-written queue
    assert state.position in (float(n), n + 0.5)
