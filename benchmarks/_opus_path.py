"""What one stream costs per second of audio on the PCM path versus an Opus pass-through path.

Today (BRENT and the baseline alike) ffmpeg decodes to 48 kHz PCM, and discord.py's player thread
scales it (``PCMVolumeTransformer``, audioop) and Opus-encodes every 20 ms frame in the bot process
before encrypting and sending it. With ``discord.FFmpegOpusAudio`` ffmpeg emits Ogg Opus instead
(encoding with libopus, or copying an Opus source such as YouTube's webm/251) and the bot only
reads Ogg pages, encrypts and sends. Each part is timed alone here, as CPU seconds per second of
audio, so the suite can predict the stream count of each path and compare with the ramp.
"""

from __future__ import annotations

import io
import logging
import math
import resource
import shutil
import struct
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import discord
import discord.oggparse
import discord.opus
import nacl.bindings
import nacl.utils

from tests.media import generate_tone

log = logging.getLogger(__name__)

OPUS_SET_COMPLEXITY = 4010  # OPUS_SET_COMPLEXITY_REQUEST in opus_defines.h; discord.py has no setter
FFMPEG = shutil.which("ffmpeg") or "ffmpeg"


@dataclass(frozen=True, slots=True)
class PathCost:
    """CPU milliseconds per second of audio for each part."""

    ffmpeg_pcm: float  # mp3 -> s16le
    ffmpeg_opus_encode: float  # mp3 -> Ogg Opus (libopus)
    ffmpeg_opus_copy: float  # Opus (webm) -> Ogg Opus, no re-encoding
    python_volume: float  # PCMVolumeTransformer (audioop.mul) on 50 frames
    python_opus_encode: float  # discord.opus.Encoder on 50 frames, discord.py's default (FEC on, 15 % loss)
    python_opus_encode_c5: float  # that at libopus complexity 5 (default 10)
    python_opus_encode_no_fec: float  # without in-band FEC: what BRENT ships (VOICE_ENCODER_OPTIONS)
    python_ogg_read: float  # discord.oggparse on one second of Ogg Opus
    python_encrypt: float  # xchacha20-poly1305 of 50 packets (both paths)

    @property
    def pcm_path(self) -> float:
        """As BRENT ships it: the encoder without FEC."""
        return self.pcm_path_with(self.python_opus_encode_no_fec)

    def pcm_path_with(self, encode: float) -> float:
        return self.ffmpeg_pcm + self.python_volume + encode + self.python_encrypt

    @property
    def opus_encode_path(self) -> float:
        return self.ffmpeg_opus_encode + self.python_ogg_read + self.python_encrypt

    @property
    def opus_copy_path(self) -> float:
        return self.ffmpeg_opus_copy + self.python_ogg_read + self.python_encrypt


def _child_cpu_ms(cmd: list[str]) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)) * 1000


def _cpu_ms(step: Callable[[], object], repeats: int) -> float:
    started = time.process_time()
    for _ in range(repeats):
        step()
    return (time.process_time() - started) * 1000 / repeats


def measure_path_cost(seconds: float = 30.0) -> PathCost:
    with tempfile.TemporaryDirectory(prefix="brent-opus-path-") as tmp:
        root = Path(tmp)
        mp3 = generate_tone(root / "src.mp3", 440, seconds)
        webm = root / "src.webm"
        subprocess.run([FFMPEG, "-nostdin", "-loglevel", "error", "-y", "-i", str(mp3), "-c:a", "libopus", "-b:a", "128k",
                        str(webm)], check=True, timeout=120)
        base = [FFMPEG, "-nostdin", "-loglevel", "error", "-y"]
        ffmpeg_pcm = _child_cpu_ms(base + ["-i", str(mp3), "-vn", "-f", "s16le", "-ar", "48000", "-ac", "2", "-"])
        ogg = root / "out.ogg"
        ffmpeg_opus = _child_cpu_ms(base + ["-i", str(mp3), "-vn", "-c:a", "libopus", "-b:a", "128k", "-ar", "48000",
                                            "-ac", "2", "-f", "opus", str(ogg)])
        ffmpeg_copy = _child_cpu_ms(base + ["-i", str(webm), "-vn", "-c:a", "copy", "-f", "opus", str(root / "copy.ogg")])
        ogg_bytes = ogg.read_bytes()

    # A 440 Hz tone, not zeros: libopus spends next to nothing on digital silence.
    wave = [int(8000 * math.sin(2 * math.pi * 440 * n / 48000)) for n in range(960)]
    frame = b"".join(struct.pack("<hh", v, v) for v in wave)
    encoder = discord.opus.Encoder()
    encoder_c5 = discord.opus.Encoder()
    discord.opus._lib.opus_encoder_ctl(encoder_c5._state, OPUS_SET_COMPLEXITY, 5)
    encoder_no_fec = discord.opus.Encoder()
    encoder_no_fec.set_fec(False)
    encoder_no_fec.set_expected_packet_loss_percent(0)
    volume = discord.PCMVolumeTransformer(_Frames(frame), volume=0.5)
    key = nacl.utils.random(32)
    packet = encoder.encode(frame, 960)

    def one_second_volume() -> None:
        for _ in range(50):
            volume.read()

    def one_second_encode(with_encoder: discord.opus.Encoder) -> Callable[[], None]:
        def step() -> None:
            for _ in range(50):
                with_encoder.encode(frame, 960)

        return step

    def one_second_encrypt() -> None:
        for n in range(50):
            nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(packet, b"\x80" * 12, n.to_bytes(24, "big"), key)

    def read_ogg() -> None:
        for _ in discord.oggparse.OggStream(io.BytesIO(ogg_bytes)).iter_packets():
            pass

    return PathCost(
        ffmpeg_pcm=ffmpeg_pcm / seconds, ffmpeg_opus_encode=ffmpeg_opus / seconds, ffmpeg_opus_copy=ffmpeg_copy / seconds,
        python_volume=_cpu_ms(one_second_volume, 50), python_opus_encode=_cpu_ms(one_second_encode(encoder), 20),
        python_opus_encode_c5=_cpu_ms(one_second_encode(encoder_c5), 20),
        python_opus_encode_no_fec=_cpu_ms(one_second_encode(encoder_no_fec), 20),
        python_ogg_read=_cpu_ms(read_ogg, 5) / seconds, python_encrypt=_cpu_ms(one_second_encrypt, 50),
    )


class _Frames(discord.AudioSource):
    def __init__(self, frame: bytes) -> None:
        self.frame = frame

    def read(self) -> bytes:
        return self.frame
