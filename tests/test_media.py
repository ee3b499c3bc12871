"""The shared media helpers must themselves be right, or every audio test built on them lies."""

from __future__ import annotations

import subprocess
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from tests.media import clock_frequency, generate_clock, generate_tone, media_duration, media_server


def _dominant_hz(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[int(np.argmax(spectrum))])


def _decode_mono(path: Path, rate: int = 48000) -> np.ndarray:
    pcm = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-f", "s16le", "-ac", "1", "-ar", str(rate), "-"],
        check=True, capture_output=True, timeout=30,
    ).stdout
    return np.frombuffer(pcm, np.int16).astype(np.float64)


def test_clock_changes_pitch_every_second(tmp_path: Path) -> None:
    path = generate_clock(tmp_path / "clock.ogg", 4)
    audio = _decode_mono(path)
    for k in range(4):
        second = audio[48000 * k + 4800 : 48000 * (k + 1) - 4800]
        assert _dominant_hz(second, 48000) == pytest.approx(clock_frequency(k), abs=5)


def test_tone_has_requested_pitch_and_length(tmp_path: Path) -> None:
    path = generate_tone(tmp_path / "tone.wav", 523, 2)
    assert media_duration(path) == pytest.approx(2.0, abs=0.05)
    assert _dominant_hz(_decode_mono(path), 48000) == pytest.approx(523, abs=2)


def test_server_honours_range_and_records_requests(tmp_path: Path) -> None:
    data = bytes(range(256)) * 4
    (tmp_path / "blob.mp3").write_bytes(data)
    with media_server(tmp_path) as server:
        req = urllib.request.Request(server.url("blob.mp3"), headers={"Range": "bytes=10-19"})
        with urllib.request.urlopen(req, timeout=5) as resp:
            assert resp.status == 206
            assert resp.headers["Content-Range"] == f"bytes 10-19/{len(data)}"
            assert resp.read() == data[10:20]
        with urllib.request.urlopen(server.url("blob.mp3"), timeout=5) as resp:
            assert resp.status == 200 and resp.read() == data
        assert [(r.method, r.path, r.headers.get("Range")) for r in server.requests] == [
            ("GET", "/blob.mp3", "bytes=10-19"),
            ("GET", "/blob.mp3", None),
        ]


def test_server_redirects_and_hangs(tmp_path: Path) -> None:
    (tmp_path / "a.mp3").write_bytes(b"abc")
    with media_server(tmp_path, hang_paths={"/hang.mp3"}) as server:
        server.redirects["/old.mp3"] = server.url("a.mp3")
        with urllib.request.urlopen(server.url("old.mp3"), timeout=5) as resp:
            assert resp.read() == b"abc"
        with pytest.raises(TimeoutError):
            urllib.request.urlopen(server.url("hang.mp3"), timeout=0.3)
        assert [r.path for r in server.requests] == ["/old.mp3", "/a.mp3", "/hang.mp3"]
