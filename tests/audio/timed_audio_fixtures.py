"""Fixtures for the TimedAudio and FfmpegStandby tests, loaded with ``pytest_plugins``: the served clock, a standby."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from audio.ffmpeg_standby import FfmpegStandby
from audio.track import Stream
from tests.media import MediaServer

pytest_plugins = ("tests.audio.player_fixtures",)


@pytest.fixture
def clock_stream(player_server: MediaServer) -> Stream:
    return Stream(player_server.url("clock.mp3"), {})


@pytest.fixture
def standby() -> Iterator[FfmpegStandby]:
    made = FfmpegStandby("ffmpeg", size=1)
    assert made.wait_ready(10)
    yield made
    made.close()
