"""`undo`: the queue as it was before the last clear, shuffle, remove, move or dedupe.

The queue goes on changing after an edit (tracks play off the front, members add more), so undo
does not just put the old queue back: it takes the queue from before the edit, leaves out what has
left the queue since (played or removed), and keeps at the end what was added since. Tracks are
compared by value, so a step saved before a restart still applies to the restored queue.
"""

from __future__ import annotations

import collections
import logging
from collections.abc import Callable, Sequence

from audio.errors import QueueError, StoreError
from audio.track import Track
from bot.store import Store, UndoStep

log = logging.getLogger(__name__)

NOTHING_TO_UNDO = "There is nothing to undo."


def _without(tracks: Sequence[Track], gone: collections.Counter[Track]) -> list[Track]:
    """``tracks`` minus ``gone`` (a multiset), taking out the first occurrences."""
    left = collections.Counter(gone)
    kept = []
    for track in tracks:
        if left[track] > 0:
            left[track] -= 1
        else:
            kept.append(track)
    return kept


def undone(step: UndoStep, now: Sequence[Track]) -> list[Track]:
    """The queue with ``step`` reverted, given the queue ``now``."""
    after, current = collections.Counter(step.after), collections.Counter(now)
    gone = after - current  # left the queue since the edit
    added = _without(now, after)  # joined it since, in their order
    return _without(step.before, gone) + added


class UndoBook:
    """Each guild's last undoable edit, in memory and in the store (so it survives a restart)."""

    def __init__(self, store: Callable[[], Store | None]) -> None:
        self._store = store
        self._steps: dict[int, UndoStep | None] = {}  # None: known to have none

    async def remember(
        self, guild_id: int, kind: str, before: Sequence[Track], after: Sequence[Track], *, member_id: int
    ) -> None:
        """``member_id`` made the edit ``kind`` that took the queue from ``before`` to ``after``."""
        if tuple(before) == tuple(after):
            return  # nothing changed: the previous step stays the one to undo
        step = UndoStep(kind, tuple(before), tuple(after), member_id)
        self._steps[guild_id] = step
        if (store := self._store()) is not None:
            try:
                await store.save_undo(guild_id, step)
            except StoreError as exc:
                log.warning("guild %s: the undo step was not saved: %s", guild_id, exc)

    async def last(self, guild_id: int) -> UndoStep:
        """The guild's undo step, or a QueueError saying there is none."""
        if guild_id not in self._steps and (store := self._store()) is not None:
            try:
                self._steps[guild_id] = await store.load_undo(guild_id)
            except StoreError as exc:
                log.warning("guild %s: the saved undo step could not be read: %s", guild_id, exc)
        step = self._steps.get(guild_id)
        if step is None:
            raise QueueError(NOTHING_TO_UNDO)
        return step

    async def drop(self, guild_id: int) -> None:
        self._steps[guild_id] = None
        if (store := self._store()) is not None:
            try:
                await store.drop_undo(guild_id)
            except StoreError as exc:
                log.warning("guild %s: the used undo step was not deleted: %s", guild_id, exc)

    def forget(self, guild_id: int) -> None:
        self._steps.pop(guild_id, None)
