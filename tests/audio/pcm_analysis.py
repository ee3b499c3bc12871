"""What the tests hear: pitch and loudness of 48 kHz stereo s16le PCM, as discord receives it."""

from __future__ import annotations

from typing import Protocol

import numpy as np

SAMPLE_RATE = 48000


def mono(pcm: bytes) -> np.ndarray:
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    return samples.reshape(-1, 2).mean(axis=1)


def dominant_frequency(pcm: bytes) -> float:
    """The loudest frequency in ``pcm`` (48 kHz stereo s16le), Hann-windowed FFT."""
    signal = mono(pcm)
    if signal.size == 0:
        raise ValueError("no audio")
    spectrum = np.abs(np.fft.rfft(signal * np.hanning(signal.size)))
    spectrum[0] = 0.0
    return float(np.fft.rfftfreq(signal.size, 1 / SAMPLE_RATE)[int(np.argmax(spectrum))])


def rms(pcm: bytes) -> float:
    signal = mono(pcm)
    return float(np.sqrt(np.mean(signal**2)))


class _Source(Protocol):
    def read(self) -> bytes: ...

    def cleanup(self) -> None: ...


def read_all(source: _Source) -> bytes:
    """Every frame a source gives until it ends, then its cleanup: the PCM a listener would get."""
    chunks = []
    try:
        while frame := source.read():
            chunks.append(frame)
    finally:
        source.cleanup()
    return b"".join(chunks)
