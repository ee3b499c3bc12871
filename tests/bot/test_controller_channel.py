"""Which channel gets a server's controller: its announce channel, where music was asked for, or none."""

from __future__ import annotations

import pytest

from bot.controller import controller_channel_id
from bot.guild_settings import build
from bot.settings import Settings

ASKED_IN, ANNOUNCE, GONE = 1001, 2002, 3003
EXISTING = {ASKED_IN, ANNOUNCE}


@pytest.mark.parametrize(("announce", "asked_in", "chosen"), [
    (None, ASKED_IN, ASKED_IN),  # the default: where music was asked for
    ("here", ASKED_IN, ASKED_IN),
    (str(ANNOUNCE), ASKED_IN, ANNOUNCE),  # the server's announce channel
    (str(ANNOUNCE), None, ANNOUNCE),  # also for a queue restored without a channel
    ("off", ASKED_IN, None),  # the server turned it off
    (str(GONE), ASKED_IN, ASKED_IN),  # the announce channel was deleted
    ("here", GONE, None),  # nowhere it can be written
    ("here", None, None),
])
def test_the_controller_channel(announce: str | None, asked_in: int | None, chosen: int | None) -> None:
    stored = {} if announce is None else {"announce": announce}
    settings = build(stored, Settings(command_prefix="\\"))
    assert controller_channel_id(settings, asked_in, EXISTING.__contains__) == chosen
