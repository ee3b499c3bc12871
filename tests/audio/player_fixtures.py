"""Fixtures for the TimedAudio and GuildPlayer tests, loaded with ``pytest_plugins`` by those modules.

The media are real files made by ffmpeg and served over HTTP from 127.0.0.1, because production
always streams http(s) and TimedAudio refuses anything else.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from audio.player import GuildPlayer
from tests.audio.ffmpeg_processes import wait_no_ffmpeg
from tests.audio.player_doubles import (
    CLOCK_SECONDS,
    TONE_SECONDS,
    TONES,
    Catalog,
    RecordingListener,
    TableResolver,
    bus,
)
from tests.audio.voice_collector import VoiceCollector
from tests.media import MediaServer, generate_clock, generate_tone, media_server


@pytest.fixture(scope="session")
def player_media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("player-media")
    for freq in TONES:
        generate_tone(root / f"tone{freq}.mp3", freq, TONE_SECONDS)
    generate_tone(root / "long440.mp3", 440, 3)
    generate_clock(root / "clock.mp3", CLOCK_SECONDS)
    return root


@pytest.fixture(scope="module")
def player_server(player_media_dir: Path) -> Iterator[MediaServer]:
    """One server per test module (stopping one takes half a second); its request log is shared."""
    with media_server(player_media_dir) as server:
        yield server


@pytest.fixture
def catalog(player_server: MediaServer) -> Catalog:
    return Catalog(player_server, TableResolver())


@pytest_asyncio.fixture
async def collector() -> AsyncIterator[VoiceCollector]:
    voice = VoiceCollector(asyncio.get_running_loop())
    yield voice
    await voice.close()


@pytest.fixture
def listener() -> RecordingListener:
    return RecordingListener()


@pytest_asyncio.fixture
async def player(
    catalog: Catalog,
    collector: VoiceCollector,
    listener: RecordingListener,
) -> AsyncIterator[GuildPlayer]:
    gp = GuildPlayer(1234, extractor=catalog.resolver, loop=asyncio.get_running_loop(), events=bus(listener))
    gp.voice = collector
    yield gp
    await gp.close()
    await collector.close()
    assert await wait_no_ffmpeg() == [], "ffmpeg processes leaked"
