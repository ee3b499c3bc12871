"""Deck: the one source a voice play reads, handing over to the armed next track inside read().

Real ffmpeg over loopback HTTP; the deck is read directly, the way discord's AudioPlayer reads it.
"""

from __future__ import annotations

import time

import pytest

from audio.deck import Deck
from audio.timed_audio import FRAME_BYTES, TimedAudio
from audio.track import Provider, Stream, Track
from tests.audio.blocking import eventually, returns_within
from tests.audio.ffmpeg_processes import ffmpeg_pids
from tests.audio.player_doubles import Catalog
from tests.media import MediaServer

pytest_plugins = ("tests.audio.player_fixtures",)

pytestmark = pytest.mark.timeout(60)

FRAMES_PER_TONE = 50  # 1 s tones


def tone(catalog: Catalog, index: int) -> TimedAudio:
    return TimedAudio(Stream(catalog.server.url(f"tone{catalog.tones[index].title[4:]}.mp3"), {}))


def drain(deck: Deck) -> int:
    frames = 0
    while deck.read():
        frames += 1
    return frames


def test_a_finished_source_hands_over_to_the_armed_one_in_the_same_read(catalog: Catalog) -> None:
    first, second = tone(catalog, 0), tone(catalog, 1)
    switches: list[tuple[object, ...]] = []
    deck = Deck(first, ended_cleanly=lambda source: True, on_switch=lambda *event: switches.append(event))
    deck.arm(second, catalog.tones[1], started_at=time.monotonic(), max_age=30.0)
    assert drain(deck) == pytest.approx(2 * FRAMES_PER_TONE, abs=3)  # no b"" between the two
    assert switches == [(first, second, catalog.tones[1])] and deck.source is second
    deck.cleanup()
    assert second.closed and not first.closed  # the ended one is the player's: on_switch hands it over
    first.cleanup()


def test_an_armed_source_that_waited_too_long_is_dropped_not_played(catalog: Catalog) -> None:
    first, second = tone(catalog, 0), tone(catalog, 1)
    switches: list[tuple[object, ...]] = []
    deck = Deck(first, ended_cleanly=lambda source: True, on_switch=lambda *event: switches.append(event))
    deck.arm(second, catalog.tones[1], started_at=time.monotonic() - 60.0, max_age=30.0)
    assert drain(deck) == pytest.approx(FRAMES_PER_TONE, abs=2)
    assert switches == [] and deck.source is first
    assert deck.disarm() is None  # dropped, and killed on a thread of its own (not the reader's)
    assert eventually(lambda: second.closed and second.pid not in ffmpeg_pids())
    deck.cleanup()


def test_a_source_that_did_not_end_cleanly_ends_the_deck_and_keeps_the_armed_one(catalog: Catalog) -> None:
    first, second = tone(catalog, 0), tone(catalog, 1)
    deck = Deck(first, ended_cleanly=lambda source: False, on_switch=lambda *event: None)
    deck.arm(second, catalog.tones[1], started_at=time.monotonic(), max_age=30.0)
    assert drain(deck) == pytest.approx(FRAMES_PER_TONE, abs=2)
    assert deck.disarm() is second and not second.closed  # the player's to clean up (or recover with)
    second.cleanup()
    deck.cleanup()


def test_the_clock_is_told_to_wait_for_a_next_track_with_nothing_yet_instead_of_blocking(
    media_server: MediaServer,
) -> None:
    """The voice clock serves every guild from one thread and asks ``frame_ready()`` before each
    read: at the end of a track the hand-over happens there, and a next track whose ffmpeg has no
    frame yet is reported as not ready rather than read (which would block)."""
    first = TimedAudio(Stream(media_server.url("tone.mp3"), {}))
    waiting = TimedAudio(Stream(media_server.url("hang.mp3"), {}), rw_timeout=30.0)
    switches: list[tuple[object, ...]] = []
    deck = Deck(first, ended_cleanly=lambda source: True, on_switch=lambda *event: switches.append(event))
    next_track = Track("waiting", media_server.url("hang.mp3"), None, None, None, Provider.DIRECT)
    deck.arm(waiting, next_track, started_at=time.monotonic(), max_age=30.0)
    try:
        frames = 0
        while deck.source is first:
            ready = returns_within(deck.frame_ready, 10.0)
            assert ready is not None, "frame_ready blocked"
            if ready and deck.source is first:
                assert len(deck.read()) == FRAME_BYTES
                frames += 1
            elif not ready:
                time.sleep(0.005)  # ffmpeg is behind this reader; the clock would try next tick
        assert frames == pytest.approx(3 * FRAMES_PER_TONE, abs=2)
        assert switches == [(first, waiting, next_track)]
        assert returns_within(deck.frame_ready, 10.0) is False  # the clock skips; nothing was read
        assert waiting.frames_read == 0
    finally:
        deck.cleanup()
        first.cleanup()
