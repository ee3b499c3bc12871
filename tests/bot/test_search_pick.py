from __future__ import annotations

import pytest

from bot.search_pick import Pick, PickOutcome, PickWaiter, parse_reply


@pytest.mark.parametrize(("text", "expected"), [
    ("1", Pick(PickOutcome.CHOSEN, 0)),
    (" 5 ", Pick(PickOutcome.CHOSEN, 4)),
    ("cancel", Pick(PickOutcome.CANCELLED)),
    ("CANCEL", Pick(PickOutcome.CANCELLED)),
    ("6", None), ("-1", None), ("1.5", None), ("", None), ("hello", None), ("٣", None), ("9" * 50, None),
])
def test_typed_replies(text: str, expected: Pick | None) -> None:
    assert parse_reply(text, 5) == expected


async def test_first_answer_wins() -> None:
    waiter = PickWaiter()
    assert waiter.offer(Pick(PickOutcome.CHOSEN, 2))
    assert not waiter.offer(Pick(PickOutcome.CANCELLED))
    assert await waiter.wait(1) == Pick(PickOutcome.CHOSEN, 2)


async def test_no_answer_times_out() -> None:
    assert (await PickWaiter().wait(0.01)).outcome is PickOutcome.TIMED_OUT
