"""Helpers shared by the store tests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from audio.track import Provider, Track
from bot.store.sql_store import SqlStore


def make_track(n: int, *, requester_id: int | None = 7) -> Track:
    return Track(
        title=f"Track {n}",
        page_url=f"https://www.youtube.com/watch?v=t{n:09d}",
        duration=60.0 + n,
        uploader=f"Uploader {n}",
        thumbnail=f"https://i.ytimg.com/vi/t{n}/hq.jpg",
        provider=Provider.YOUTUBE,
        requester_id=requester_id,
    )


def raw_sql(store: SqlStore) -> Callable[..., Awaitable[Any]]:
    """Run one statement on the store's own connection, to plant rows the API would never write."""

    async def run(sql: str, *args: Any) -> list[Any]:
        async with store._driver.transaction() as tx:
            return await tx.fetch(sql, *args)

    return run
