"""Deck: the one source a voice play reads, handing over to the armed next track inside read().

Real ffmpeg over loopback HTTP; the deck is read directly, the way discord's AudioPlayer reads it.
"""

from __future__ import annotations

import time

import pytest

from audio.deck import Deck
from audio.timed_audio import TimedAudio
from audio.track import Stream
from tests.audio.player_doubles import Catalog

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
    assert switches == [] and second.closed and deck.source is first
    deck.cleanup()


def test_a_source_that_did_not_end_cleanly_ends_the_deck_and_keeps_the_armed_one(catalog: Catalog) -> None:
    first, second = tone(catalog, 0), tone(catalog, 1)
    deck = Deck(first, ended_cleanly=lambda source: False, on_switch=lambda *event: None)
    deck.arm(second, catalog.tones[1], started_at=time.monotonic(), max_age=30.0)
    assert drain(deck) == pytest.approx(FRAMES_PER_TONE, abs=2)
    assert deck.disarm() is second and not second.closed  # the player's to clean up (or recover with)
    second.cleanup()
    deck.cleanup()
