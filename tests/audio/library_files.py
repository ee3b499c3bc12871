"""A music folder of generated files with tags, for the local-library tests."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.media import FFMPEG


def tagged_tone(path: Path, freq: float, seconds: float, **tags: str) -> Path:
    """A sine tone file (the format from the suffix) with ``title=``, ``artist=``, ``album=`` tags."""
    path.parent.mkdir(parents=True, exist_ok=True)
    metadata = [arg for key, value in tags.items() for arg in ("-metadata", f"{key}={value}")]
    subprocess.run(
        [
            FFMPEG, "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", f"sine=frequency={freq}:sample_rate=48000:duration={seconds}",
            "-ac", "2", "-ar", "48000", *metadata, str(path),
        ],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return path


def music_folder(root: Path) -> Path:
    """``root/music`` with three tagged files and, beside it, a ``secret.mp3`` the library must never serve."""
    music = root / "music"
    tagged_tone(music / "Jazz" / "so_what.mp3", 440, 2.0, title="So What", artist="Miles Davis", album="Kind of Blue")
    tagged_tone(music / "Jazz" / "blue_in_green.ogg", 550, 2.0, title="Blue in Green", artist="Miles Davis")
    tagged_tone(music / "untagged field recording.flac", 660, 1.5)
    tagged_tone(root / "secret.mp3", 880, 1.0, title="Secret", artist="Miles Davis")
    (music / "notes.txt").write_text("not audio")
    return music
