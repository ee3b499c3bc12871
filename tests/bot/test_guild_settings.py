"""Per-server settings: typed values are checked and stored as text, read back capped by the bot-wide limits."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

import discord
import pytest

from audio.queue_order import QueueMode
from bot.guild_settings import GuildSettingsBook, build
from bot.setting_specs import SPECS, SettingRefused, parse_setting
from bot.settings import Settings

ROLE_ID, TEXT_ID, OTHER_TEXT_ID, VOICE_ID = 111111111111111111, 222222222222222222, 222222222222222223, 333333333333333333


def guild() -> discord.Guild:
    def thing(id_: int, name: str) -> Any:
        return SimpleNamespace(id=id_, name=name)

    return cast(discord.Guild, SimpleNamespace(
        roles=[thing(ROLE_ID, "DJ")],
        text_channels=[thing(TEXT_ID, "music"), thing(OTHER_TEXT_ID, "bots")],
        voice_channels=[thing(VOICE_ID, "Music")],
        stage_channels=[],
    ))


SETTINGS = Settings(command_prefix="\\", max_queue_length=500, max_user_tracks=50, max_track_duration=3600.0)


@pytest.mark.parametrize(("name", "typed", "stored"), [
    ("prefix", "!", "!"),
    ("djrole", f"<@&{ROLE_ID}>", str(ROLE_ID)),
    ("djrole", "dj", str(ROLE_ID)),
    ("announce", "off", "off"),
    ("announce", "#music", str(TEXT_ID)),
    ("channels", f"<#{TEXT_ID}>, bots", f"{TEXT_ID} {OTHER_TEXT_ID}"),
    ("channels", "all", "all"),
    ("voice", "Music", str(VOICE_ID)),
    ("247", "on", "on"),
    ("idle", "5:00", "300"),
    ("volume", "40%", "40"),
    ("search", "SoundCloud", "soundcloud"),
    ("maxqueue", "20", "20"),
    ("maxlength", "10:00", "600"),
    ("queuemode", "Fair", "fair"),
    ("queuemode", "fair-time", "fairtime"),
    ("autoplay", "yes", "on"),
    ("VOLUME", "default", None),
])
def test_typed_values_become_stored_text(name: str, typed: str, stored: str | None) -> None:
    spec, value = parse_setting(name, typed, guild(), SETTINGS)
    assert spec.name == name.lower() and value == stored


@pytest.mark.parametrize(("name", "typed", "listed"), [
    ("colour", "red", "The settings are `prefix`"),
    ("prefix", "a b", "1 to 5 characters"),
    ("djrole", "Nobody", "No role here is named `Nobody`"),
    ("announce", "#nowhere", "`here`, `off` or a text channel"),
    ("voice", "Lounge", "`any` or a voice channel"),
    ("247", "maybe", "`on` or `off`"),
    ("idle", "1", "10 s"),
    ("volume", "300", "0 to 200"),
    ("search", "bandcamp", "`youtube`, `soundcloud`"),
    ("queuemode", "lottery", "`fifo` (first come, first served), `fair`"),
    ("autoplay", "sometimes", "`on` or `off`"),
    ("maxqueue", "501", "from 1 to 500 (the bot-wide limit)"),
    ("maxlength", "2:00:00", "1:00:00 (the bot-wide limit)"),
    ("volume", "", "Give a value for `volume`"),
])
def test_bad_names_and_values_are_answered_with_the_valid_ones(name: str, typed: str, listed: str) -> None:
    with pytest.raises(SettingRefused) as refused:
        parse_setting(name, typed, guild(), SETTINGS)
    assert listed in refused.value.user_message


def test_every_setting_reads_back_and_limits_stay_under_the_bot_wide_caps() -> None:
    stored = {"prefix": "!", "djrole": str(ROLE_ID), "announce": str(TEXT_ID), "channels": str(TEXT_ID),
              "voice": str(VOICE_ID), "247": "on", "idle": "60", "volume": "30", "search": "soundcloud",
              "maxqueue": "20", "maxpermember": "5", "maxlength": "600", "queuemode": "fairtime", "autoplay": "on"}
    assert set(stored) == set(SPECS)
    current = build(stored, SETTINGS)
    assert (current.prefix, current.dj_role_id, current.voice_channel_id) == ("!", ROLE_ID, VOICE_ID)
    assert current.announce_channel_id(asked_in=5) == TEXT_ID
    assert current.text_channel_ids == {TEXT_ID} and current.stay_in_voice
    assert (current.idle_timeout, current.volume, current.search_provider) == (60.0, 30, "scsearch")
    assert (current.queue_mode, current.autoplay) == (QueueMode.FAIR_TIME, True)
    assert (current.limits.max_queue_length, current.limits.max_user_tracks, current.limits.max_track_duration) == (
        20, 5, 600.0
    )
    lowered = Settings(max_queue_length=10, max_user_tracks=None, max_track_duration=300.0)
    capped = build(stored, lowered).limits  # the owner lowered a cap after the server set its own
    assert (capped.max_queue_length, capped.max_user_tracks, capped.max_track_duration) == (10, 5, 300.0)


def test_defaults_come_from_the_bot_settings() -> None:
    current = build({}, SETTINGS)
    assert (current.prefix, current.announce, current.stay_in_voice, current.volume) == ("\\", "here", False, 100)
    assert current.announce_channel_id(asked_in=5) == 5
    assert build({"announce": "off"}, SETTINGS).announce_channel_id(asked_in=5) is None
    assert build({"volume": "loud"}, SETTINGS).volume == 100  # a damaged row reads as the default
    assert (current.queue_mode, current.autoplay) == (QueueMode.FIFO, False)
    assert build({"queuemode": "lottery"}, SETTINGS).queue_mode is QueueMode.FIFO


async def test_the_book_blocks_per_server_and_everywhere() -> None:
    book = GuildSettingsBook(SETTINGS)
    assert await book.set_blocked(None, 0, 1, True)
    assert await book.set_blocked(None, 9, 2, True)
    assert not await book.set_blocked(None, 9, 2, True)
    assert book.is_blocked(1, 9) and book.is_blocked(1, None)
    assert book.is_blocked(2, 9) and not book.is_blocked(2, 8)
    assert book.everywhere == {1}
