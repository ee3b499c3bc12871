"""TimedOpus: a stream's Opus packets copied by real ffmpeg, taken apart without blocking, timed, and
mixed with PCM sources in one deck."""

from __future__ import annotations

import struct
import subprocess
from collections.abc import Iterator
from pathlib import Path

import discord
import psutil
import pytest

from audio.deck import Deck, DeckVolume
from audio.filters import Filters
from audio.ogg_opus import OggPackets, opus_packet_samples
from audio.timed_audio import FRAME_BYTES, TimedAudio
from audio.timed_opus import OpusFraming, TimedOpus
from audio.track import Stream
from tests.audio.pcm_analysis import dominant_frequency, rms
from tests.media import FFMPEG, MediaServer, generate_tone, media_server

pytestmark = pytest.mark.timeout(60)


def encode_opus(path: Path, freq: int, seconds: float, *, frame_ms: int = 20) -> Path:
    subprocess.run(
        [FFMPEG, "-nostdin", "-v", "error", "-y", "-f", "lavfi",
         "-i", f"sine=frequency={freq}:sample_rate=48000:duration={seconds}",
         "-ac", "2", "-c:a", "libopus", "-b:a", "96k", "-frame_duration", str(frame_ms), str(path)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return path


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MediaServer]:
    root = tmp_path_factory.mktemp("opus-media")
    encode_opus(root / "tone440.webm", 440, 3)
    encode_opus(root / "tone660.opus", 660, 2)
    encode_opus(root / "long60ms.webm", 440, 2, frame_ms=60)
    encode_opus(root / "tone660-30s.opus", 660, 30)  # more than a pipe holds: ffmpeg is still running
    generate_tone(root / "tone550.mp3", 550, 1)
    with media_server(root) as served:
        yield served


def opus_stream(server: MediaServer, name: str) -> Stream:
    return Stream(server.url(name), {}, opus=True)


def decode(packets: list[bytes]) -> bytes:
    decoder = discord.opus.Decoder()
    return b"".join(decoder.decode(p, fec=False) for p in packets)


def read_packets(source: TimedAudio) -> list[bytes]:
    packets = []
    try:
        while packet := source.read():
            packets.append(packet)
    finally:
        source.cleanup()
    return packets


def test_the_packets_are_the_streams_own_20_ms_opus_and_sound_as_it_does(server: MediaServer) -> None:
    source = TimedOpus(opus_stream(server, "tone440.webm"))
    assert source.is_opus()
    packets = read_packets(source)
    assert len(packets) == pytest.approx(150, abs=2)
    assert {opus_packet_samples(p) for p in packets} == {960}
    assert source.position == pytest.approx(3.0, abs=0.05) and source.error is None
    assert dominant_frequency(decode(packets)[FRAME_BYTES * 5 :]) == pytest.approx(440, abs=2)


def test_ffmpeg_copies_the_packets_rather_than_encoding(server: MediaServer) -> None:
    source = TimedOpus(opus_stream(server, "tone660-30s.opus"))
    try:
        argv = psutil.Process(source.pid).cmdline()
        assert argv[argv.index("-c:a") + 1] == "copy" and "libopus" not in argv
        assert argv[argv.index("-f", argv.index("-i")) + 1] == "ogg"
    finally:
        source.cleanup()


def test_a_start_offset_is_an_input_seek_and_the_position_follows(server: MediaServer) -> None:
    source = TimedOpus(opus_stream(server, "tone440.webm"), start=1.5)
    assert source.position == 1.5
    packets = read_packets(source)
    assert len(packets) == pytest.approx(75, abs=3)
    assert source.position == pytest.approx(3.0, abs=0.08)


def test_a_play_limit_ends_the_packets_there(server: MediaServer) -> None:
    packets = read_packets(TimedOpus(opus_stream(server, "tone440.webm"), play_limit=1.0))
    assert len(packets) == 50


def test_at_keeps_copying_unless_filters_ask_for_pcm(server: MediaServer) -> None:
    source = TimedOpus(opus_stream(server, "tone440.webm"))
    same, pcm = source.at(1.0), source.at(1.0, filters=Filters(bass=1))
    try:
        assert type(same) is TimedOpus and type(pcm) is TimedAudio and pcm.filters == Filters(bass=1)
        with pytest.raises(ValueError):
            TimedOpus(opus_stream(server, "tone440.webm"), filters=Filters(speed=1.5))
    finally:
        for each in (source, same, pcm):
            each.cleanup()


def test_packets_that_are_not_20_ms_end_the_source_with_opus_framing(server: MediaServer) -> None:
    source = TimedOpus(opus_stream(server, "long60ms.webm"))
    packets = read_packets(source)
    assert packets == [TimedOpus.SILENCE]  # never a 60 ms packet on the 20 ms grid
    assert isinstance(source.error, OpusFraming) and source.framing_refused


def test_the_deck_says_per_frame_whether_it_is_opus_across_hand_overs(server: MediaServer) -> None:
    pcm_first = TimedAudio(Stream(server.url("tone550.mp3"), {}))
    opus_next = TimedOpus(opus_stream(server, "tone660.opus"))
    deck = Deck(pcm_first, ended_cleanly=lambda s: True, on_switch=lambda *a: None)
    volume = DeckVolume(deck, volume=0.5)
    deck.arm(opus_next, object(), started_at=1e18, max_age=1e19)  # type: ignore[arg-type]
    kinds, pcm, packets = [], [], []
    try:
        while frame := volume.read():
            kinds.append(volume.is_opus())
            (packets if volume.is_opus() else pcm).append(frame)
    finally:
        volume.cleanup()
        pcm_first.cleanup()
    # PCM first (the volume applies), then Opus packets straight after, untouched.
    assert kinds == [False] * len(pcm) + [True] * len(packets)
    assert len(pcm) == pytest.approx(50, abs=2) and len(packets) == pytest.approx(100, abs=2)
    plain = TimedAudio(Stream(server.url("tone550.mp3"), {}))
    full = [plain.read() for _ in range(len(pcm))]
    plain.cleanup()
    assert rms(b"".join(pcm[5:-5])) / rms(b"".join(full[5:-5])) == pytest.approx(0.5, abs=0.01)
    assert dominant_frequency(decode(packets)[FRAME_BYTES * 5 :]) == pytest.approx(660, abs=2)


def _page(packets: list[bytes], seq: int, *, continued_tail: bool = False) -> bytes:
    lacing: list[int] = []
    for index, packet in enumerate(packets):
        whole, rest = divmod(len(packet), 255)
        lacing += [255] * whole
        if not (continued_tail and index == len(packets) - 1):
            lacing.append(rest)
    body = b"".join(packets)
    header = struct.pack("<4sBBqIIIB", b"OggS", 0, 0, 0, 1, seq, 0, len(lacing))
    return header + bytes(lacing) + body


def test_ogg_pages_arriving_in_pieces_give_whole_packets_and_skip_the_headers() -> None:
    big = bytes([0xFC]) + bytes(600)  # a packet of 601 bytes, laced over three segments
    stream = _page([b"OpusHead" + bytes(11)], 0) + _page([b"OpusTags" + bytes(8)], 1)
    stream += _page([bytes([0xFC, 1]), big], 2) + _page([bytes([0xFC, 2])], 3)
    reader, buffer, out = OggPackets(), bytearray(), []
    for offset in range(0, len(stream), 7):  # seven bytes at a time, as a pipe may hand them over
        buffer += stream[offset : offset + 7]
        out += reader.take(buffer)
    assert out == [bytes([0xFC, 1]), big, bytes([0xFC, 2])] and buffer == bytearray()


def test_a_packet_continued_on_the_next_page_is_joined() -> None:
    long = bytes([0xFC]) + bytes(509)  # exactly two 255-byte segments: continued on the next page
    first = _page([long], 0, continued_tail=True)
    second = struct.pack("<4sBBqIIIB", b"OggS", 0, 1, 0, 1, 1, 0, 1) + bytes([0])
    assert OggPackets().take(bytearray(first + second)) == [long]


@pytest.mark.parametrize(
    ("toc", "samples"),
    [(0xFC, 960), (0xFD, 1920), (0xF8, 960), (0x08 | 0, 960), (0x18, 2880), (0xE0, 120), (0x78, 960)],
)
def test_opus_packet_lengths_from_the_toc(toc: int, samples: int) -> None:
    assert opus_packet_samples(bytes([toc, 0x02])) == samples
