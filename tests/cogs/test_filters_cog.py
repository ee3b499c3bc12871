"""`filter` with arbitrary words: every input gets a reply of its own, never the generic apology,
and a refused one leaves the filters as they were."""

from __future__ import annotations

import discord.ext.test as dpytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audio.filters import FILTER_LIST, NO_FILTERS
from bot.bot import BrentBot
from bot.errors import APOLOGY
from tests.cogs.conftest import reply_to

word = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00 \"'"),
    min_size=1,
    max_size=30,
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.one_of(word, st.sampled_from(["bass", "speed", "pitch", "eq", "nightcore", "8d"])), value=word)
async def test_any_words_get_a_reply_and_refused_ones_change_nothing(
    bot: BrentBot, name: str, value: str
) -> None:
    reply = await reply_to(f"\\filter {name} {value}")
    assert reply and reply != APOLOGY, (name, value, reply)
    assert "@everyone" not in reply and "@here" not in reply
    assert all(p.filters == NO_FILTERS for p in bot.players.values()) or reply.startswith("Filters on")
    await dpytest.empty_queue()


async def test_the_slash_filter_offers_every_filter_name_and_off_as_choices(bot: BrentBot) -> None:
    command = bot.tree.get_command("filter")
    assert command is not None
    name = next(p for p in command.parameters if p.name == "name")  # type: ignore[union-attr]
    assert [c.value for c in name.choices] == [*FILTER_LIST, "off"]
