"""`playlist import` of other bots' files through the command: a plain link list (.txt) and Red's export."""

from __future__ import annotations

import json
from pathlib import Path

import discord.ext.test as dpytest

from bot.bot import BrentBot
from tests.cogs.test_playlists import bot, say  # noqa: F401  (bot is a fixture)
from tests.store.conftest import open_db  # noqa: F401  (fixture)


async def test_a_plain_link_list_imports_as_a_playlist(bot: BrentBot, tmp_path: Path) -> None:  # noqa: F811
    listing = tmp_path / "autoplaylist.txt"
    listing.write_text("# kept by another bot\nhttps://example.com/a.mp3\nhttps://example.com/b.mp3\n")
    reply = await say("\\pl import auto", attachments=[dpytest.backend.make_attachment(listing)])
    assert reply == "Imported 2 tracks as **auto**."
    assert bot.store is not None
    _, tracks = await bot.store.playlist_tracks(dpytest.get_config().guilds[0].id, "auto")
    assert [t.page_url for t in tracks] == ["https://example.com/a.mp3", "https://example.com/b.mp3"]


async def test_red_export_imports_under_its_own_name(bot: BrentBot, tmp_path: Path) -> None:  # noqa: F811
    document = {"author": 1, "name": "from red", "schema": 2, "version": "v2", "link": None,
                "playlist": ["https://example.com/a.mp3"]}
    exported = tmp_path / "1.txt"
    exported.write_text(json.dumps(document))
    reply = await say("\\pl import", attachments=[dpytest.backend.make_attachment(exported)])
    assert reply == "Imported 1 track as **from red**."
