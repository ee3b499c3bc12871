"""Server settings, block lists and bot values in the store, on SQLite and PostgreSQL; they survive a reopen."""

from __future__ import annotations

from tests.store.conftest import StoreOpener, open_db  # noqa: F401  (fixture)


async def test_settings_are_per_server_and_survive_a_reopen(open_db: StoreOpener) -> None:  # noqa: F811
    store = await open_db()
    await store.set_guild_setting(1, "prefix", "!")
    await store.set_guild_setting(1, "volume", "40")
    await store.set_guild_setting(2, "prefix", "?")
    await store.set_guild_setting(1, "volume", "60")  # a second change replaces the first
    await store.set_guild_setting(2, "prefix", None)  # back to the default
    again = await open_db()
    assert await again.guild_settings(1) == {"prefix": "!", "volume": "60"}
    assert await again.guild_settings(2) == {}
    assert await again.all_guild_settings() == {1: {"prefix": "!", "volume": "60"}}


async def test_block_lists_and_bot_values_survive_a_reopen(open_db: StoreOpener) -> None:  # noqa: F811
    store = await open_db()
    await store.set_blocked(0, 500, True)
    await store.set_blocked(7, 501, True)
    await store.set_blocked(7, 502, True)
    await store.set_blocked(7, 502, False)
    await store.set_bot_value("commands", "abc")
    await store.set_bot_value("commands", "def")
    again = await open_db()
    assert await again.blocked_users() == {0: {500}, 7: {501}}
    assert await again.bot_value("commands") == "def"
    assert await again.bot_value("missing") is None
