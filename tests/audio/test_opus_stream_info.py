"""Which streams the extractor marks as Opus (their packets can be copied), from yt-dlp's own fields."""

from __future__ import annotations

import pytest

from audio.extractor.info import stream_from_info
from tests.audio.infodicts import load_info


def test_youtubes_opus_format_is_opus_and_soundclouds_aac_is_not() -> None:
    assert stream_from_info(load_info("youtube_video")).opus
    assert not stream_from_info(load_info("soundcloud_track")).opus


@pytest.mark.parametrize(
    ("fields", "opus"),
    [
        ({"acodec": "opus", "asr": None}, True),  # a direct .opus file: yt-dlp knows the codec only
        ({"acodec": "opus", "asr": 48000}, True),
        ({"acodec": "opus", "asr": 44100}, False),  # not what a real Opus stream says: decode it
        ({"acodec": "mp3", "asr": 48000}, False),
        ({"acodec": None}, False),  # a direct .webm: unknown, so decoded
        ({}, False),
    ],
)
def test_opus_only_when_yt_dlp_says_so(fields: dict[str, object], opus: bool) -> None:
    info = {"url": "https://media.example/a", "webpage_url": "https://media.example/a", **fields}
    assert stream_from_info(info).opus is opus
