"""Finding the two native pieces voice needs: the ffmpeg executable and the libopus library.

Both fail with :class:`NativeDependencyError`, whose ``fix`` is the exact command for this OS, at
start-up rather than at the first ``play``. macOS needs the explicit paths: Pythons not built by
Homebrew never look in /opt/homebrew/lib, so ``ctypes.util.find_library('opus')`` returns None there.
"""

from __future__ import annotations

import ctypes.util
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import discord

from audio.errors import BrentError
from bot.settings import Settings

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
HOMEBREW_FFMPEG = ("/opt/homebrew/bin/ffmpeg", "/usr/local/bin/ffmpeg")
OPUS_FALLBACKS = (
    "/opt/homebrew/lib/libopus.dylib",
    "/opt/homebrew/opt/opus/lib/libopus.0.dylib",
    "/usr/local/lib/libopus.dylib",
    "libopus.so.0",
)


class NativeDependencyError(BrentError):
    """ffmpeg or libopus is missing or unusable; ``fix`` says what to run."""

    def __init__(self, problem: str, fix: str) -> None:
        super().__init__(
            "Audio is not available on this host right now; the bot owner needs to check its logs.",
            detail=f"{problem} Fix: {fix}",
        )
        self.problem = problem
        self.fix = fix


def install_hint(*, ffmpeg: bool = True, opus: bool = True) -> str:
    """The package-manager command that installs what is missing on this OS."""
    if sys.platform == "darwin":
        return "brew install " + " ".join(name for name, need in (("ffmpeg", ffmpeg), ("opus", opus)) if need)
    if sys.platform == "win32":
        return "download ffmpeg.exe from https://ffmpeg.org/download.html into the project's bin\\ folder"
    packages = [name for name, need in (("ffmpeg", ffmpeg), ("libopus0", opus)) if need]
    return "sudo apt-get install " + " ".join(packages) + " (Debian/Ubuntu; other systems: your package manager)"


def ffmpeg_candidates(settings: Settings, project_root: Path = PROJECT_ROOT) -> list[str]:
    """Where ffmpeg is looked for, in order (an FFMPEG_PATH override is the only candidate)."""
    if settings.ffmpeg_path:
        return [settings.ffmpeg_path]
    exe = "ffmpeg.exe" if sys.platform == "win32" else "ffmpeg"
    candidates = [str(project_root / "bin" / exe)]
    on_path = shutil.which("ffmpeg")
    if on_path:
        candidates.append(on_path)
    candidates.extend(HOMEBREW_FFMPEG)
    return candidates


def find_ffmpeg(settings: Settings, project_root: Path = PROJECT_ROOT) -> str:
    """The path of a runnable ffmpeg, or :class:`NativeDependencyError` with the fix."""
    for candidate in ffmpeg_candidates(settings, project_root):
        path = Path(candidate)
        if path.is_file() and os.access(path, os.X_OK):
            log.debug("using ffmpeg at %s", path)
            return str(path)
        if settings.ffmpeg_path:
            raise NativeDependencyError(
                f"FFMPEG_PATH is set to {candidate}, which is not an executable file.",
                "point FFMPEG_PATH at the ffmpeg executable, or leave it empty to search bin/ and PATH",
            )
    raise NativeDependencyError(
        "ffmpeg was not found (looked in bin/, on PATH and in the Homebrew locations).",
        install_hint(opus=False) + ", or set FFMPEG_PATH in credentials.env",
    )


def ffmpeg_version(path: str, timeout: float = 15.0) -> str | None:
    """``ffmpeg version 5.1.9-...`` from ``ffmpeg -version``, or None when it does not run or answer."""
    try:
        done = subprocess.run(
            [path, "-hide_banner", "-version"], capture_output=True, text=True, timeout=timeout,
            stdin=subprocess.DEVNULL, check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    first = done.stdout.splitlines()[0] if done.stdout else ""
    if done.returncode != 0 or not first.startswith("ffmpeg version"):
        return None
    return first.split(" Copyright")[0]


def opus_candidates(settings: Settings) -> list[str]:
    """Library names/paths to try, in order (an OPUS_LIBRARY override is the only candidate)."""
    if settings.opus_library:
        return [settings.opus_library]
    candidates: list[str] = []
    found = ctypes.util.find_library("opus")
    if found:
        candidates.append(found)
    candidates.extend(path for path in OPUS_FALLBACKS if path not in candidates)
    return candidates


def load_opus(settings: Settings) -> str | None:
    """Load libopus into discord.py; return what was loaded (None when it already was).

    An OPUS_LIBRARY override is tried alone: silently falling back would hide a wrong setting.
    """
    if discord.opus.is_loaded():
        return None
    tried = _try_load(opus_candidates(settings))
    if isinstance(tried, str):
        log.info("loaded libopus from %s", tried)
        return tried
    if settings.opus_library:
        raise NativeDependencyError(
            f"OPUS_LIBRARY is set to {settings.opus_library}, which could not be loaded ({tried[0]}).",
            "point OPUS_LIBRARY at the libopus shared library (e.g. /opt/homebrew/lib/libopus.dylib or "
            "libopus.so.0), or leave it empty to search the usual places",
        )
    raise NativeDependencyError(
        "libopus could not be loaded (voice needs it to encode audio).",
        install_hint(ffmpeg=False) + ", or set OPUS_LIBRARY in credentials.env to the library's full path",
    )


def _try_load(candidates: Sequence[str]) -> str | list[str]:
    """The first candidate that loads, or the reasons each one failed."""
    reasons: list[str] = []
    for candidate in candidates:
        try:
            discord.opus.load_opus(candidate)
        except (OSError, AttributeError) as exc:  # AttributeError: a library without opus's symbols
            reasons.append(f"{candidate}: {exc.__class__.__name__}")
            log.debug("libopus candidate %s failed: %s", candidate, exc)
            continue
        if discord.opus.is_loaded():
            return candidate
    return reasons
