"""``play`` of a direct audio file through dpytest: it starts before its length is known, the reply
carries the measured length, and a file over MAX_TRACK_DURATION is taken out again with the
refusal admission gives.

Real command parsing, extractor (yt-dlp, ffprobe), GuildPlayer and ffmpeg; the media come from the
loopback server. dpytest has no voice, so the author's voice state is set in the guild's cache and
the connector hands the player a VoiceCollector (discord's own AudioPlayer thread, paced like
Discord at 20 ms a frame, with the network end replaced).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import discord
import discord.ext.test as dpytest
import pytest

from audio.player import GuildPlayer
from bot.admission import Limits, too_long_refusal
from bot.bot import BrentBot, create_bot
from bot.checks import VoiceLike
from bot.setting_specs import SPECS
from bot.settings import Settings
from tests.audio.voice_collector import VoiceCollector
from tests.cogs.conftest import reply_to
from tests.media import MediaServer, generate_tone, media_server

pytestmark = pytest.mark.timeout(60)

CAP = 2.0  # seconds; long.mp3 (3 s) is over it, short.mp3 (1.8 s) under


@pytest.fixture(scope="module")
def tones(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("play-measure-media")
    generate_tone(root / "long.mp3", 440, 3.0)
    generate_tone(root / "short.mp3", 660, 1.8)
    return root


@pytest.fixture
def media(tones: Path) -> Iterator[MediaServer]:
    with media_server(tones) as server:
        yield server


class CollectorConnector:
    """The VoiceConnector's ``connect``: the guild's player, with a collector as its voice client."""

    def __init__(self, bot: BrentBot, voice: VoiceCollector) -> None:
        self._bot = bot
        self._voice = voice

    async def connect(self, guild: discord.Guild, channel: VoiceLike) -> GuildPlayer:
        player = self._bot.player_for(guild)
        player.voice = self._voice
        return player


@pytest.fixture
async def voice() -> AsyncIterator[VoiceCollector]:
    collector = VoiceCollector(asyncio.get_running_loop(), pace=0.02)
    yield collector
    await collector.close()


async def _bot(voice: VoiceCollector, **settings: object) -> BrentBot:
    made = create_bot(Settings(command_prefix="\\", allow_private_network=True, **settings))  # type: ignore[arg-type]
    await made._async_setup_hook()
    await made.setup_hook()
    dpytest.configure(made, members=1)
    assert made.failed_extensions == {}
    made.voice_connector = CollectorConnector(made, voice)  # type: ignore[assignment]
    guild = dpytest.get_config().guilds[0]
    member = dpytest.get_config().members[0]
    channel = guild.voice_channels[0]
    guild._update_voice_state(  # what a VOICE_STATE_UPDATE for the member would leave in the cache
        {
            "user_id": str(member.id),
            "channel_id": str(channel.id),
            "session_id": "s",
            "deaf": False,
            "mute": False,
            "self_deaf": False,
            "self_mute": False,
            "self_video": False,
            "suppress": False,
            "request_to_speak_timestamp": None,
        },
        channel.id,
    )
    assert member.voice is not None and member.voice.channel == channel
    await made.guild_settings.change(None, guild.id, SPECS["announce"], "off")  # replies only, no controller
    return made


@pytest.fixture
async def bot(voice: VoiceCollector) -> AsyncIterator[BrentBot]:
    made = await _bot(voice)
    yield made
    await _shut(made)


@pytest.fixture
async def capped_bot(voice: VoiceCollector) -> AsyncIterator[BrentBot]:
    made = await _bot(voice, max_track_duration=CAP)
    yield made
    await _shut(made)


async def _shut(made: BrentBot) -> None:
    for player in list(made.players.values()):
        await player.close()
    await dpytest.empty_queue()
    made.extractor.close()


def _player(bot: BrentBot) -> GuildPlayer:
    return bot.players[dpytest.get_config().guilds[0].id]


async def test_play_of_a_direct_file_replies_with_its_measured_length(
    bot: BrentBot, media: MediaServer, voice: VoiceCollector
) -> None:
    reply = await reply_to(f"\\play {media.url('long.mp3')}")
    assert reply == "Playing **long** (0:03)."
    player = _player(bot)
    assert player.current is not None and player.current.duration == pytest.approx(3.0, abs=0.1)
    assert voice.plays == 1


async def test_a_playing_direct_file_over_the_cap_is_skipped_with_admissions_refusal(
    capped_bot: BrentBot, media: MediaServer, voice: VoiceCollector
) -> None:
    reply = await reply_to(f"\\play {media.url('long.mp3')}")
    assert reply == too_long_refusal(Limits(max_track_duration=CAP)).user_message
    assert reply == "That is longer than the 0:02 limit for one track."
    player = _player(capped_bot)
    assert voice.plays == 1  # it had started: the length was not known yet
    assert player.current is None and len(player.queue) == 0


async def test_a_queued_direct_file_over_the_cap_is_removed_and_the_playing_one_goes_on(
    capped_bot: BrentBot, media: MediaServer, voice: VoiceCollector
) -> None:
    assert await reply_to(f"\\play {media.url('short.mp3')}") == "Playing **short** (0:01)."
    player = _player(capped_bot)
    playing = player.current
    reply = await reply_to(f"\\play {media.url('long.mp3')}")
    assert reply == "That is longer than the 0:02 limit for one track."
    assert len(player.queue) == 0
    assert player.current is playing and voice.plays == 1  # long.mp3 was queued, never played
