"""Effects as heard: TimedAudio with filters against real ffmpeg, and the deck's cue (no gap, no repeat)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from audio.deck import Deck
from audio.filters import Filters, Style
from audio.timed_audio import FRAME_BYTES, TimedAudio
from audio.track import Stream
from tests.audio.blocking import eventually
from tests.audio.pcm_analysis import dominant_frequency, read_all, rms
from tests.media import MediaServer, clock_frequency, generate_clock, generate_tone, media_server

pytestmark = pytest.mark.timeout(60)

CLOCK_SECONDS = 8


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MediaServer]:
    root: Path = tmp_path_factory.mktemp("filter-media")
    generate_tone(root / "tone440.mp3", 440, 3)
    generate_tone(root / "low80.mp3", 80, 2)
    generate_tone(root / "high2000.mp3", 2000, 2)
    generate_clock(root / "clock.mp3", CLOCK_SECONDS)
    with media_server(root) as served:
        yield served


def stream(server: MediaServer, name: str) -> Stream:
    return Stream(server.url(name), {})


def frames(source: TimedAudio, count: int) -> bytes:
    chunks = []
    for _ in range(count):
        frame = source.read()
        assert len(frame) == FRAME_BYTES, "stream ended early"
        chunks.append(frame)
    return b"".join(chunks)


def test_nightcore_raises_the_pitch_by_a_quarter(server: MediaServer) -> None:
    pcm = read_all(TimedAudio(stream(server, "tone440.mp3"), filters=Filters(style=Style.NIGHTCORE)))
    assert dominant_frequency(pcm[FRAME_BYTES * 5 : FRAME_BYTES * 100]) == pytest.approx(550, abs=3)
    assert len(pcm) / FRAME_BYTES * 0.02 == pytest.approx(3 / 1.25, abs=0.06)  # and plays faster


def test_vaporwave_lowers_it_by_a_fifth(server: MediaServer) -> None:
    pcm = read_all(TimedAudio(stream(server, "tone440.mp3"), filters=Filters(style=Style.VAPORWAVE)))
    assert dominant_frequency(pcm[FRAME_BYTES * 5 : FRAME_BYTES * 100]) == pytest.approx(352, abs=3)


def test_pitch_changes_the_pitch_and_not_the_length(server: MediaServer) -> None:
    pcm = read_all(TimedAudio(stream(server, "tone440.mp3"), filters=Filters(pitch=12)))
    assert dominant_frequency(pcm[FRAME_BYTES * 10 : FRAME_BYTES * 100]) == pytest.approx(880, abs=4)
    assert len(pcm) / FRAME_BYTES * 0.02 == pytest.approx(3.0, abs=0.1)


def test_speed_keeps_the_pitch_and_the_position_in_track_time(server: MediaServer) -> None:
    source = TimedAudio(stream(server, "clock.mp3"), start=1.0, filters=Filters(speed=1.5))
    try:
        first_second = frames(source, 50)  # one second of output
        assert source.position == pytest.approx(2.5)  # covered 1.5 s of the track
        assert dominant_frequency(first_second[: FRAME_BYTES * 25]) == pytest.approx(
            clock_frequency(1), abs=4
        )
        assert dominant_frequency(frames(source, 25)) == pytest.approx(clock_frequency(2), abs=4)
        while source.read():
            pass
        assert source.position == pytest.approx(CLOCK_SECONDS, abs=0.1)  # the whole track, 2/3 the time
    finally:
        source.cleanup()


def test_a_play_limit_is_a_position_in_the_track_under_speed(server: MediaServer) -> None:
    pcm = read_all(TimedAudio(stream(server, "clock.mp3"), filters=Filters(speed=2.0), play_limit=3.0))
    assert len(pcm) // FRAME_BYTES == 75  # 3 s of track in 1.5 s of output


def test_bass_boost_raises_the_low_band_and_leaves_the_highs(server: MediaServer) -> None:
    boost = Filters(bass=5)
    low_plain = rms(read_all(TimedAudio(stream(server, "low80.mp3"))))
    low_boosted = rms(read_all(TimedAudio(stream(server, "low80.mp3"), filters=boost)))
    high_plain = rms(read_all(TimedAudio(stream(server, "high2000.mp3"))))
    high_boosted = rms(read_all(TimedAudio(stream(server, "high2000.mp3"), filters=boost)))
    assert low_boosted / low_plain > 3.5  # 15 dB at the shelf: about x5 at 80 Hz
    assert high_boosted / high_plain == pytest.approx(1.0, abs=0.1)


def test_karaoke_cuts_what_is_in_the_middle(server: MediaServer) -> None:
    plain = rms(read_all(TimedAudio(stream(server, "tone440.mp3"))))
    cut = rms(read_all(TimedAudio(stream(server, "tone440.mp3"), filters=Filters(karaoke=True))))
    assert cut < plain / 100


def test_a_source_with_effects_has_them_in_its_argv_and_passes_them_on_to_at(server: MediaServer) -> None:
    filters = Filters(bass=2, speed=1.25)
    source = TimedAudio(stream(server, "clock.mp3"), filters=filters)
    later = source.at(3.0)
    plain = source.at(3.0, filters=Filters())
    try:
        assert later.filters == filters and plain.filters == Filters()
        assert later.position == 3.0
    finally:
        for each in (source, later, plain):
            each.cleanup()


def test_a_cue_takes_over_where_the_current_source_reaches_it(server: MediaServer) -> None:
    current = TimedAudio(stream(server, "clock.mp3"))
    cued = current.at(2.0, filters=Filters(style=Style.NIGHTCORE))
    taken: list[tuple[TimedAudio, TimedAudio]] = []
    deck = Deck(
        current, ended_cleanly=lambda s: False, on_switch=lambda *a: None, on_cue=lambda *p: taken.append(p)
    )
    try:
        assert deck.cue(cued, expected=current)
        assert eventually(
            cued.frame_ready
        )  # read as fast as ffmpeg decodes, the current one would finish first
        heard = []
        while frame := deck.read():
            heard.append(frame)
        assert taken == [(current, cued)]
        # 2 s at normal speed, then the other 6 s of the track in 6 / 1.25 s: nothing twice, nothing left out.
        assert len(heard) == pytest.approx(100 + 6 / 1.25 / 0.02, abs=2)
        assert dominant_frequency(b"".join(heard[60:95])) == pytest.approx(clock_frequency(1), abs=4)
        after = b"".join(heard[105:135])  # second 2 of the track, a quarter higher
        assert dominant_frequency(after) == pytest.approx(clock_frequency(2) * 1.25, abs=5)
    finally:
        deck.cleanup()
        current.cleanup()


def test_a_cue_that_starts_late_drops_what_the_current_source_already_played(server: MediaServer) -> None:
    current = TimedAudio(stream(server, "clock.mp3"))
    deck = Deck(current, ended_cleanly=lambda s: False, on_switch=lambda *a: None)
    try:
        heard = [deck.read() for _ in range(150)]  # 3 s played
        cued = current.at(1.0, filters=Filters(bass=1))  # behind the current position
        assert deck.cue(cued, expected=current)
        # Read as fast as ffmpeg decodes, the current one would finish before this one decoded 2 s.
        assert eventually(lambda: cued.catch_up(current.position))
        while frame := deck.read():
            heard.append(frame)
        assert deck.source is cued
        assert len(heard) == pytest.approx(CLOCK_SECONDS / 0.02, abs=2)
    finally:
        deck.cleanup()
        current.cleanup()


def test_a_second_cue_needs_the_first_taken_back(server: MediaServer) -> None:
    current = TimedAudio(stream(server, "clock.mp3"))
    first, second = current.at(4.0, filters=Filters(bass=1)), current.at(4.0, filters=Filters(bass=2))
    deck = Deck(current, ended_cleanly=lambda s: False, on_switch=lambda *a: None)
    try:
        assert deck.cue(first, expected=current)
        assert not deck.cue(second, expected=current)
        assert deck.uncue() is first
        assert deck.cue(second, expected=current)
        assert not deck.cue(first, expected=second)  # only the current source can be cued over
    finally:
        deck.cleanup()
        for each in (current, first, second):
            each.cleanup()
