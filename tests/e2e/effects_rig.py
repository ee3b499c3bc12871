"""What the filter and pass-through scenarios share besides tests/e2e/brent_rig.py: the voice clock's
count of missed packet slots, the energy of a frequency band, and their mixed-tone media."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np

from bot.bot import BrentBot
from tests.fakediscord.recorder import SAMPLE_RATE
from tests.media import FFMPEG


def missed_slots(bot: BrentBot) -> int:
    """Packet slots the bot's voice clock skipped because the source had no frame (a gap heard)."""
    return sum(getattr(getattr(voice, "_player", None), "skipped", 0) for voice in bot.voice_clients)


def band_energy(pcm: np.ndarray, low_hz: float, high_hz: float) -> float:
    """Spectral energy of ``pcm`` (int16, (n, 2)) between two frequencies."""
    signal = pcm.astype(np.float64).mean(axis=1)
    spectrum = np.abs(np.fft.rfft(signal * np.hanning(signal.size))) ** 2
    freqs = np.fft.rfftfreq(signal.size, 1 / SAMPLE_RATE)
    return float(spectrum[(freqs >= low_hz) & (freqs < high_hz)].sum())


def generate_mix(
    path: Path, frequencies: tuple[int, ...], seconds: float, *, codec: list[str] | None = None
) -> Path:
    """Sines of ``frequencies`` mixed, stereo 48 kHz; the container follows the extension."""
    inputs: list[str] = []
    for hz in frequencies:
        inputs += ["-f", "lavfi", "-i", f"sine=frequency={hz}:sample_rate=48000:duration={seconds}"]
    mix = f"amix=inputs={len(frequencies)}:normalize=0" if len(frequencies) > 1 else "anull"
    subprocess.run(
        [FFMPEG, "-nostdin", "-v", "error", "-y", *inputs, "-filter_complex", mix,
         "-ac", "2", "-ar", "48000", *(codec or []), str(path)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return path
