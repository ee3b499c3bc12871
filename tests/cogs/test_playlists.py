"""Playlist commands at message level (dpytest) against real stores: SQLite always, PostgreSQL when reachable.

Tracks come from a loopback media server through the real extractor (private network allowed), or
from a queue built in the test; nothing reaches beyond 127.0.0.1.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import discord
import discord.ext.test as dpytest
import pytest
from discord.ext import commands

from audio.track import Provider, Track
from bot.bot import BrentBot, create_bot
from bot.settings import Settings
from bot.store import UNAVAILABLE_MESSAGE, StoreLimits
from bot.store.playlist_formats import MAX_IMPORT_BYTES
from tests.media import MediaServer, generate_tone, media_server
from tests.store.conftest import StoreOpener, open_db  # noqa: F401  (fixture)

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def tones(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("playlist-media")
    generate_tone(root / "first.mp3", 440, 1.0)
    generate_tone(root / "second.mp3", 660, 1.0)
    return root


@pytest.fixture
def media(tones: Path) -> Iterator[MediaServer]:
    with media_server(tones) as server:
        yield server


@pytest.fixture
async def bot(open_db: StoreOpener, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[BrentBot]:  # noqa: F811
    monkeypatch.chdir(tmp_path)  # dpytest writes sent files to the working directory
    made = create_bot(Settings(command_prefix="\\", allow_private_network=True))
    made.store = await open_db(limits=StoreLimits(max_playlist_tracks=3))
    await made._async_setup_hook()
    await made.setup_hook()
    dpytest.configure(made, members=2)
    assert made.failed_extensions == {}
    yield made
    await dpytest.empty_queue()
    made.extractor.close()


def member(n: int) -> discord.Member:
    return dpytest.get_config().members[n]


async def say(text: str, *, by: int = 0, attachments: list[discord.Attachment] | None = None) -> str:
    """Send a command as member ``by`` and return the bot's reply text."""
    config = dpytest.get_config()
    try:
        if attachments is None:
            await dpytest.message(text, member=config.members[by])
        else:
            dpytest.backend.make_message(text, config.members[by], config.channels[0], attachments=attachments)
            await dpytest.run_all_events()
            if not dpytest.runner.error_queue.empty():
                raise (await dpytest.runner.error_queue.get())[1]
    except commands.CommandError:
        pass
    return dpytest.get_message().content


def track(n: int) -> Track:
    return Track(f"Song {n}", f"https://example.com/song{n}.mp3", 60.0 + n, None, None, Provider.DIRECT)


async def test_create_add_by_url_show_and_list(bot: BrentBot, media: MediaServer) -> None:
    assert "Created playlist **Road Trip**" in await say("\\playlist create Road Trip")
    reply = await say(f'\\pl add "Road Trip" {media.url("first.mp3")}')
    assert "Added **first**" in reply and "now 1 track" in reply
    await say(f'\\pl a "road trip" {media.url("second.mp3")}')
    shown = await say('\\pl s "road trip"')
    assert shown.splitlines()[0] == "**Road Trip**: 2 tracks (page 1/1)"
    assert "`1.` first (0:01)" in shown and "`2.` second (0:01)" in shown  # measured before saving
    assert "**Road Trip**: 2 tracks" in await say("\\pl ls")
    assert bot.store is not None
    _, tracks = await bot.store.playlist_tracks(dpytest.get_config().guilds[0].id, "Road Trip")
    assert [t.page_url for t in tracks] == [media.url("first.mp3"), media.url("second.mp3")]


async def test_add_without_argument_takes_the_current_track_and_needs_one(bot: BrentBot) -> None:
    await say("\\pl create mix")
    assert "Nothing is playing" in await say("\\pl add mix")
    guild = dpytest.get_config().guilds[0]
    player = bot.player_for(guild)
    player.queue.extend([track(1), track(2)])
    assert "Saved 2 tracks as **friday**" in await say("\\pl save friday")
    assert bot.store is not None
    _, saved = await bot.store.playlist_tracks(guild.id, "friday")
    assert [t.title for t in saved] == ["Song 1", "Song 2"]
    assert all(t.requester_id is None for t in saved)


async def test_save_of_an_empty_queue_and_over_the_cap_change_nothing(bot: BrentBot) -> None:
    guild = dpytest.get_config().guilds[0]
    assert "nothing to save" in await say("\\pl save empty")
    bot.player_for(guild).queue.extend([track(n) for n in range(4)])  # the cap is 3
    reply = await say("\\pl save big")
    assert "3" in reply and "Saved" not in reply
    assert "no playlists" in await say("\\pl list")


async def test_rename_remove_delete_and_who_may_change(bot: BrentBot) -> None:
    guild = dpytest.get_config().guilds[0]
    bot.player_for(guild).queue.extend([track(1), track(2)])
    await say("\\pl save mine")
    assert member(1).guild_permissions.manage_guild is False
    for command in ("\\pl rename mine theirs", "\\pl remove mine 1", "\\pl delete mine"):
        assert "Only the playlist's creator or someone with Manage Server" in await say(command, by=1)
    assert "Renamed to **ours**" in await say("\\pl mv mine ours")
    assert "Removed **Song 1**" in await say("\\pl rm ours 1")
    assert "That playlist has no track #5" in await say("\\pl rm ours 5")
    assert "Deleted playlist **ours** (1 track)" in await say("\\pl del ours")
    assert "no playlists" in await say("\\pl list")


async def test_bad_names_and_missing_playlists_get_the_store_message(bot: BrentBot) -> None:
    assert "may only use letters" in await say("\\pl create @everyone")
    assert "There is no playlist with that name" in await say("\\pl show nothing")
    await say("\\pl create Mix")
    assert "already has a playlist with that name" in await say("\\pl create mix")


async def test_export_json_and_m3u_then_import_round_trip(bot: BrentBot, tmp_path: Path) -> None:
    guild = dpytest.get_config().guilds[0]
    bot.player_for(guild).queue.extend([track(1), track(2)])
    await say("\\pl save trip")
    for kind in ("json", "m3u"):
        await dpytest.message(f"\\pl export trip {kind}")
        sent = dpytest.get_message()
        # (dpytest drops the text of a message that carries a file; the attachment is the point here)
        (upload,) = sent.attachments
        assert upload.filename == f"trip.{kind}"
        data = await upload.read()
        if kind == "json":
            assert [e["url"] for e in json.loads(data)["tracks"]] == [t.page_url for t in (track(1), track(2))]
        copy = tmp_path / f"copy.{kind}"
        copy.write_bytes(data)
        attachment = dpytest.backend.make_attachment(copy)
        assert f"Imported 2 tracks as **trip {kind}**" in await say(
            f"\\pl import trip {kind}", attachments=[attachment]
        )
        assert bot.store is not None
        _, back = await bot.store.playlist_tracks(guild.id, f"trip {kind}")
        assert [(t.title, t.page_url) for t in back] == [(t.title, t.page_url) for t in (track(1), track(2))]


async def test_malformed_imports_are_refused_and_change_nothing(bot: BrentBot, tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": "brent-playlist", "version": 1, "tracks": [{"url": "file:///etc/passwd"}]}')
    not_text = tmp_path / "binary.m3u"
    not_text.write_bytes(b"\xff\xfe\x00garbage\x80")
    wrong_kind = tmp_path / "list.pdf"
    wrong_kind.write_text("https://example.com/a.mp3\n")
    huge = tmp_path / "huge.m3u"
    huge.write_bytes(b"#" * (MAX_IMPORT_BYTES + 1))
    replies = [
        await say("\\pl import x", attachments=[dpytest.backend.make_attachment(path)])
        for path in (broken, not_text, wrong_kind, huge)
    ]
    assert "Imported" not in " ".join(replies)
    assert replies[0] == "Entry 1: only http and https URLs are allowed."
    assert "UTF-8" in replies[1]
    assert ".json, .m3u, .m3u8 or .txt" in replies[2]
    assert "larger than" in replies[3]
    assert "Attach one" in await say("\\pl import x")
    assert "no playlists" in await say("\\pl list")


async def test_replies_escape_names_and_titles_and_ping_nobody(bot: BrentBot) -> None:
    guild = dpytest.get_config().guilds[0]
    sneaky = Track("**bold** <@123> @everyone", "https://example.com/x.mp3", 1.0, None, None, Provider.DIRECT)
    bot.player_for(guild).queue.add(sneaky)
    await say("\\pl save a_b")
    shown = await say("\\pl show a_b")
    assert "a\\_b" in shown and "\\*\\*bold\\*\\*" in shown and "@everyone" not in shown.replace("@\u200beveryone", "")


async def test_without_a_database_every_playlist_command_says_so(bot: BrentBot) -> None:
    bot.store = None
    for command in ("\\pl list", "\\pl create x", "\\pl show x"):
        assert await say(command) == UNAVAILABLE_MESSAGE


async def test_help_lists_subcommands_with_examples(bot: BrentBot) -> None:
    await dpytest.message("\\help playlist")
    text = dpytest.get_message().content
    for sub in ("create", "delete", "rename", "add", "remove", "show", "list", "play", "save", "export", "import"):
        assert sub in text
    group = bot.get_command("playlist")
    assert isinstance(group, commands.Group) and "pl" in group.aliases
    for sub in group.commands:
        assert sub.aliases, f"{sub.name} has no short alias"
        assert "Example" in (sub.help or ""), f"{sub.name} has no example"


async def test_adding_needs_ownership_and_manage_server_may_change_any(bot: BrentBot, media: MediaServer) -> None:
    await say("\\pl create mine")
    refused = await say(f"\\pl add mine {media.url('first.mp3')}", by=1)
    assert "Only the playlist's creator or someone with Manage Server" in refused
    guild = dpytest.get_config().guilds[0]
    mods = dpytest.backend.make_role("Mods", guild, permissions=discord.Permissions(manage_guild=True).value)
    await dpytest.add_role(member(1), mods)
    assert member(1).guild_permissions.manage_guild
    assert "Added **first**" in await say(f"\\pl add mine {media.url('first.mp3')}", by=1)
    assert "Deleted playlist **mine** (1 track)" in await say("\\pl delete mine", by=1)
