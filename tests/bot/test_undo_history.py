"""undo's arithmetic, and the undo step and history kept across a restart (a new bot, same store)."""

from __future__ import annotations

from pathlib import Path

import pytest

from audio.errors import QueueError
from audio.track import Provider, Track
from bot.queue_memory import QueueMemory
from bot.store import UndoStep, open_store
from bot.undo import NOTHING_TO_UNDO, undone

GUILD = 1234


def track(name: str) -> Track:
    return Track(name, f"https://media.test/{name}.mp3", 60.0, None, None, Provider.DIRECT, 7)


a, b, c, d, e = (track(n) for n in "abcde")


@pytest.mark.parametrize(
    ("step", "now", "expected"),
    [
        (UndoStep("clear", (a, b, c), ()), (), [a, b, c]),
        (UndoStep("clear", (a, b, c), ()), (d,), [a, b, c, d]),  # added since: kept, at the end
        (UndoStep("shuffle", (a, b, c), (c, a, b)), (a, b), [a, b]),  # c played since: not back
        (UndoStep("remove", (a, b, c), (a, c)), (a, c, e), [a, b, c, e]),
        (UndoStep("move", (a, b, c), (c, a, b)), (c, a, b), [a, b, c]),
        (UndoStep("dedupe", (a, b, a, c, a), (a, b, c)), (b, c), [b, a, c, a]),  # the first a played since
    ],
)
def test_undone(step: UndoStep, now: tuple[Track, ...], expected: list[Track]) -> None:
    assert undone(step, now) == expected


async def test_undo_and_history_survive_a_restart(tmp_path: Path) -> None:
    store = await open_store(None, tmp_path)
    memory = QueueMemory(lambda: store)
    with pytest.raises(QueueError, match=NOTHING_TO_UNDO):
        await memory.undo.last(GUILD)
    await memory.undo.remember(GUILD, "clear", (a, b), (), member_id=5)
    await memory.undo.remember(GUILD, "shuffle", (a,), (a,), member_id=6)  # no change: not a step
    for played in (a, b, b, c):  # b twice in a row (loop, a resume) is one entry
        await memory.history.record(GUILD, played)
    await store.close()

    store = await open_store(None, tmp_path)
    again = QueueMemory(lambda: store)
    assert await again.undo.last(GUILD) == UndoStep("clear", (a, b), (), 5)
    assert [entry.track for entry in await again.history.recent(GUILD)] == [c, b, a]
    assert await again.history.before(GUILD, c) == b  # c plays: the one before it
    assert await again.history.before(GUILD, None) == c  # nothing plays: the last one
    await again.undo.drop(GUILD)
    await again.forget(GUILD)
    await store.close()

    store = await open_store(None, tmp_path)
    third = QueueMemory(lambda: store)
    with pytest.raises(QueueError, match=NOTHING_TO_UNDO):
        await third.undo.last(GUILD)
    assert await third.history.recent(GUILD) == []
    await store.close()


async def test_without_a_store_everything_stays_in_memory() -> None:
    memory = QueueMemory(lambda: None)
    await memory.undo.remember(GUILD, "move", (a, b), (b, a), member_id=1)
    await memory.history.record(GUILD, a)
    assert (await memory.undo.last(GUILD)).kind == "move"
    assert await memory.history.before(GUILD, None) == a
