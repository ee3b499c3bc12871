"""Saved player state, database rows to a frozen :class:`GuildState`: damaged values are repaired
(and logged) rather than failing the restore of a whole guild."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any

from audio.filters import NO_FILTERS, Filters
from audio.track import Track
from bot.store.driver import Row
from bot.store.models import LOOP_MODES, MAX_VOLUME, MIN_VOLUME, GuildState
from bot.store.track_rows import track_from_row

log = logging.getLogger(__name__)


def _optional_id(value: Any, what: str, guild_id: int) -> int | None:
    if value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
        return value
    log.warning("Ignoring a damaged %s in the saved state of guild %d", what, guild_id)
    return None


def state_from_rows(row: Row, entries: Sequence[Row]) -> GuildState:
    """Build a GuildState from a guild_state row, repairing damaged settings rather than failing."""
    guild_id = int(row[0])
    loop_mode = row[3] if row[3] in LOOP_MODES else "off"
    if loop_mode != row[3]:
        log.warning("Ignoring a damaged loop mode in the saved state of guild %d", guild_id)
    volume = row[4] if isinstance(row[4], int) and not isinstance(row[4], bool) else 100
    volume = min(max(volume, MIN_VOLUME), MAX_VOLUME)
    position = row[5] if isinstance(row[5], (int, float)) and not isinstance(row[5], bool) else 0.0
    position = float(position) if math.isfinite(position) and position >= 0 else 0.0
    current: Track | None = None
    queue: list[Track] = []
    for entry in entries:
        track = track_from_row(entry[1:], where=f"the saved queue of guild {guild_id}")
        if track is None:
            continue
        if entry[0] == 0:
            current = track
        else:
            queue.append(track)
    return GuildState(
        guild_id=guild_id,
        voice_channel_id=_optional_id(row[1], "voice channel", guild_id),
        text_channel_id=_optional_id(row[2], "text channel", guild_id),
        loop_mode=loop_mode,
        volume=volume,
        current=current,
        position=position if current is not None else 0.0,
        paused=bool(row[6]),
        queue=tuple(queue),
        filters=Filters.from_text(row[7]) if isinstance(row[7], str) else NO_FILTERS,
    )
