"""What a test heard: frames read from a TimedAudio, or pitches, sources and titles off the voice collector.

Each test track has its own pitch, and the clock track's pitch tells which second of it is heard;
``VoiceCollector.hold_at`` freezes the player thread at an exact frame so a command lands at a
known point of the audio.
"""

from __future__ import annotations

from typing import Any

import discord

from audio.deck import Deck
from audio.timed_audio import FRAME_BYTES, TimedAudio
from tests.audio.pcm_analysis import dominant_frequency
from tests.audio.voice_collector import VoiceCollector


def read_frames(source: TimedAudio, count: int) -> bytes:
    chunks = []
    for _ in range(count):
        frame = source.read()
        assert len(frame) == FRAME_BYTES, "stream ended early"
        chunks.append(frame)
    return b"".join(chunks)


def pitch_of_source(voice: VoiceCollector, index: int) -> float:
    """The pitch heard from the ``index``-th ffmpeg source (a track, or the part of one after a seek)."""
    frames = voice.frames_of_source(index)
    assert frames, f"source #{index} produced no audio"
    return dominant_frequency(b"".join(f.pcm for f in frames[2:-2] or frames))


def pitch_of(voice: VoiceCollector, start: int, count: int = 25) -> float:
    return dominant_frequency(voice.pcm(start, start + count))


def first_frame_with_pitch(voice: VoiceCollector, start: int, freq: float, limit: int = 200) -> int:
    """Index (from ``start``) of the first of 3 consecutive 20 ms frames whose pitch is ``freq``.

    Three in a row, because a frame holding a decoder start-up transient can peak anywhere.
    """
    pitches = [
        dominant_frequency(voice.pcm(i, i + 1)) for i in range(start, min(start + limit, voice.frame_count()))
    ]
    for offset in range(len(pitches) - 2):
        if pitches[offset] == pitches[offset + 1] == pitches[offset + 2] == freq:
            return offset
    raise AssertionError(f"{freq} Hz never heard: {pitches}")


def titles(events: list[tuple[Any, ...]]) -> list[str]:
    return [e[1].title for e in events]


def current_source(voice: VoiceCollector) -> TimedAudio:
    wrapper = voice.source
    assert isinstance(wrapper, discord.PCMVolumeTransformer)
    assert isinstance(wrapper.original, Deck)
    return wrapper.original.source
