"""Which gateway shards this process runs, and so which guilds' players live in it.

Discord sends a guild's events only to shard ``(guild_id >> 22) % shard_count``. Several BRENT
processes can share one bot token and one PostgreSQL by each running some of the shards
(``SHARD_COUNT`` the same everywhere, ``SHARD_IDS`` different); a guild's player then exists in
exactly one process, and everything a process does to saved player state is limited to the guilds
its shards hold. Playlists and settings are read from the shared database by whichever process
serves the command.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_SHARD_COUNT = 10_000


def shard_of(guild_id: int, shard_count: int) -> int:
    """The shard Discord routes the guild's events to (the formula is Discord's, not BRENT's)."""
    return (guild_id >> 22) % shard_count


@dataclass(frozen=True, slots=True)
class Shards:
    """``count`` shards in all, of which this process runs ``ids`` (sorted, without repeats)."""

    count: int
    ids: tuple[int, ...]

    def holds(self, guild_id: int) -> bool:
        return shard_of(guild_id, self.count) in self.ids

    def __str__(self) -> str:
        return f"shard(s) {', '.join(map(str, self.ids))} of {self.count}"


def parse_shards(count_raw: str, ids_raw: str) -> Shards | None:
    """``SHARD_COUNT`` and ``SHARD_IDS`` as read from the settings; None when sharding is off.

    ``SHARD_IDS`` is a comma list of shard numbers or ranges (``0,1`` or ``0-3``); left empty it
    means every shard. Raises ValueError with a one-line message naming the variable.
    """
    count_raw, ids_raw = count_raw.strip(), ids_raw.strip()
    if not count_raw:
        if ids_raw:
            raise ValueError(
                "SHARD_IDS needs SHARD_COUNT (the number of shards across all processes), e.g. 2"
            )
        return None
    if not count_raw.isascii() or not count_raw.isdigit() or not 1 <= int(count_raw) <= MAX_SHARD_COUNT:
        raise ValueError(f"SHARD_COUNT must be a whole number from 1 to {MAX_SHARD_COUNT}, e.g. 2")
    count = int(count_raw)
    if not ids_raw:
        return Shards(count, tuple(range(count)))
    ids: set[int] = set()
    for part in (p.strip() for p in ids_raw.split(",")):
        if part:
            ids.update(_shard_range(part, count))
    if not ids:
        raise ValueError("SHARD_IDS must list at least one shard number, e.g. 0 or 0,1 or 0-3")
    return Shards(count, tuple(sorted(ids)))


def _shard_range(part: str, count: int) -> range:
    first, dash, last = part.partition("-")
    bounds = (first.strip(), last.strip() if dash else first.strip())
    if not all(b.isascii() and b.isdigit() for b in bounds):
        raise ValueError(f"SHARD_IDS must be shard numbers or ranges such as 0,1 or 0-3, not {part[:20]!r}")
    low, high = int(bounds[0]), int(bounds[1])
    if not 0 <= low <= high < count:
        raise ValueError(f"SHARD_IDS must be shard numbers from 0 to {count - 1} (SHARD_COUNT is {count})")
    return range(low, high + 1)
