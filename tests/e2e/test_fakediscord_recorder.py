"""Self-tests of the loopback Discord's recorder analysis on synthetic input."""

from __future__ import annotations

import asyncio
import json

import numpy as np
import pytest

from tests.fakediscord import (
    ScenarioMetrics,
    VoicePacket,
    VoiceRecorder,
    dominant_frequency,
)
from tests.fakediscord.recorder import SAMPLE_RATE
from tests.fakediscord.waiting import Notifier

pytestmark = pytest.mark.e2e


# --- recorder analysis on synthetic input ----------------------------------------------------------------


def _sine(freq: float, seconds: float, amplitude: float = 8000) -> np.ndarray:
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    mono = (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.int16)
    return np.stack([mono, mono], axis=1)


@pytest.mark.parametrize("freq", [300.0, 440.0, 512.5, 1000.0])
def test_dominant_frequency_is_sub_hertz_accurate(freq: float) -> None:
    assert dominant_frequency(_sine(freq, 0.5)) == pytest.approx(freq, abs=0.5)


def test_dominant_frequency_of_silence_is_nan() -> None:
    assert np.isnan(dominant_frequency(np.zeros((4800, 2), dtype=np.int16)))


async def test_gap_stats_skip_intended_pauses_but_count_stalls() -> None:
    loop = asyncio.get_running_loop()
    rec = VoiceRecorder(1, Notifier(loop))
    frame = _sine(440, 0.02).tobytes()
    times = [0.00, 0.02, 0.04, 0.10, 0.12]  # a 60 ms stall with contiguous sequence numbers
    for seq, t in enumerate(times, start=1):
        rec.add_packet(VoicePacket(t, seq, seq * 960, 7, False, frame))
    rec.add_packet(VoicePacket(0.13, 6, 0, 7, True, b""))  # pause: silence frame
    rec.add_packet(VoicePacket(5.00, 7, 7 * 960, 7, False, frame))
    rec.add_packet(VoicePacket(5.02, 9, 9 * 960, 7, False, frame))  # one lost packet
    stats = rec.gap_stats()
    assert stats.count == 5
    assert stats.max_ms == pytest.approx(60.0)
    assert stats.over_40ms == 1
    assert rec.sequence_breaks() == [(7, 9)]
    assert rec.first_audio_after(0.11) == rec.packets[4]
    assert rec.latency_after(0.11) == pytest.approx(0.01)
    assert rec.audio_seconds() == pytest.approx(0.14)
    assert rec.transitions() == [pytest.approx(5.00 - 0.12)]
    json.dumps(ScenarioMetrics(0.1, stats, 0.14, 8, 1, 0).as_dict())
