"""Waiting for a member to pick one of the search results, by typed number or by select menu.

Separate from the cog so the rules (what counts as a pick, what cancels, the time limit) are
testable without Discord.
"""

from __future__ import annotations

import asyncio
import enum
from dataclasses import dataclass

PICK_TIMEOUT = 30.0
CANCEL_WORDS = frozenset({"cancel", "c", "stop", "no", "0"})


class PickOutcome(enum.Enum):
    CHOSEN = "chosen"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed out"


@dataclass(frozen=True, slots=True)
class Pick:
    outcome: PickOutcome
    index: int | None = None  # 0-based into the results


def parse_reply(text: str, count: int) -> Pick | None:
    """A typed reply: a number 1..count picks, a cancel word cancels, anything else is ignored."""
    word = text.strip().lower()
    if word in CANCEL_WORDS:
        return Pick(PickOutcome.CANCELLED)
    if word.isascii() and word.isdigit() and len(word) <= 3 and 1 <= int(word) <= count:
        return Pick(PickOutcome.CHOSEN, int(word) - 1)
    return None


class PickWaiter:
    """The first answer wins, from whichever source (typed reply or menu) gives it."""

    def __init__(self) -> None:
        self._future: asyncio.Future[Pick] = asyncio.get_running_loop().create_future()

    def offer(self, pick: Pick) -> bool:
        if self._future.done():
            return False
        self._future.set_result(pick)
        return True

    async def wait(self, timeout: float = PICK_TIMEOUT) -> Pick:
        try:
            return await asyncio.wait_for(asyncio.shield(self._future), timeout)
        except TimeoutError:
            self.offer(Pick(PickOutcome.TIMED_OUT))
            return self._future.result()
