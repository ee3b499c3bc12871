"""Hypothesis throws arbitrary text at every argument-taking command: no input may reach the
generic apology (an unhandled exception), and a refused command changes nothing."""

from __future__ import annotations

import discord.ext.test as dpytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.bot import BrentBot
from bot.errors import APOLOGY
from tests.cogs.conftest import reply_to

COMMANDS = ("seek", "volume", "remove", "move", "loop", "queue", "rewind", "forward", "join", "help")

argument = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=60
).filter(lambda s: s.strip() != "")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(command=st.sampled_from(COMMANDS), text=argument)
async def test_any_argument_gets_a_reply_and_changes_nothing(bot: BrentBot, command: str, text: str) -> None:
    # One bot serves every example, so state left behind by any input would show up later.
    reply = await reply_to(f"\\{command} {text}")
    assert reply and reply != APOLOGY, (command, text, reply)
    assert len(reply) <= 2000
    assert "@everyone" not in reply and "@here" not in reply
    assert all(len(p.queue) == 0 and p.current is None for p in bot.players.values())
    assert bot.blocked_users == set()
    await dpytest.empty_queue()
