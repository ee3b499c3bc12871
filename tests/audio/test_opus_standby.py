"""Copied Opus tracks start on a waiting ffmpeg too: the standby keeps one process per output kind."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from audio.ffmpeg_standby import OPUS_OUTPUT, PCM_OUTPUT, FfmpegStandby
from audio.timed_audio import TimedAudio
from audio.timed_opus import TimedOpus
from audio.track import Stream
from tests.audio.test_opus_passthrough import encode_opus, read_packets
from tests.media import MediaServer, generate_tone, media_server

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MediaServer]:
    root = tmp_path_factory.mktemp("opus-standby-media")
    encode_opus(root / "tone440.webm", 440, 3)
    generate_tone(root / "tone550.mp3", 550, 1)
    with media_server(root) as server:
        yield server


def opus_stream(server: MediaServer) -> Stream:
    return Stream(server.url("tone440.webm"), {}, opus=True)


def standby_of(*outputs: tuple[str, ...]) -> FfmpegStandby:
    made = FfmpegStandby("ffmpeg", size=1, outputs=outputs)
    assert made.wait_ready(10)
    return made


def test_a_copied_opus_start_takes_the_waiting_opus_process_and_gets_the_same_packets(served: MediaServer) -> None:
    standby = standby_of(PCM_OUTPUT, OPUS_OUTPUT)
    try:
        before = standby.pids
        source = TimedOpus(opus_stream(served), standby=standby)
        assert source.from_standby and source.pid in before
        from_standby = read_packets(source)
    finally:
        standby.close()
    fresh = TimedOpus(opus_stream(served))
    assert not fresh.from_standby
    assert from_standby == read_packets(fresh)
    assert len(from_standby) == pytest.approx(150, abs=2)


@pytest.mark.parametrize(
    ("waiting", "kind", "name"),
    [((PCM_OUTPUT,), TimedOpus, "tone440.webm"), ((OPUS_OUTPUT,), TimedAudio, "tone550.mp3")],
    ids=["opus-source-pcm-standby", "pcm-source-opus-standby"],
)
def test_each_kind_takes_only_a_process_with_its_own_output(
    served: MediaServer, waiting: tuple[str, ...], kind: type[TimedAudio], name: str
) -> None:
    standby = standby_of(*waiting)
    try:
        source = kind(Stream(served.url(name), {}, opus=kind is TimedOpus), standby=standby)
        try:
            assert not source.from_standby and source.pid not in standby.pids
        finally:
            source.cleanup()
    finally:
        standby.close()


def test_both_kinds_are_kept_waiting_after_a_hand_out(served: MediaServer) -> None:
    standby = standby_of(PCM_OUTPUT, OPUS_OUTPUT)
    try:
        assert len(standby.pids) == 2
        source = TimedOpus(opus_stream(served), standby=standby)
        try:
            assert source.from_standby
            assert standby.wait_ready(10)
            assert len(standby.pids) == 2 and source.pid not in standby.pids
            again = TimedOpus(opus_stream(served), standby=standby)
            try:
                assert again.from_standby
            finally:
                again.cleanup()
        finally:
            source.cleanup()
    finally:
        standby.close()
