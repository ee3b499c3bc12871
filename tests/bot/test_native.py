from __future__ import annotations

import ctypes.util
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import discord
import pytest

from bot import native
from bot.native import NativeDependencyError, find_ffmpeg, load_opus
from bot.settings import Settings


@pytest.fixture
def opus_unloaded() -> Iterator[None]:
    """Start from "libopus not loaded" and restore discord.py's state afterwards."""
    saved = discord.opus._lib  # type: ignore[attr-defined]
    discord.opus._lib = None  # type: ignore[attr-defined]
    yield
    discord.opus._lib = saved  # type: ignore[attr-defined]


def make_executable(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(0o755)
    return path


def test_ffmpeg_override_wins(tmp_path: Path) -> None:
    fake = make_executable(tmp_path / "custom" / "ffmpeg")
    assert find_ffmpeg(Settings(ffmpeg_path=str(fake)), project_root=tmp_path) == str(fake)


def test_ffmpeg_override_that_is_not_executable_fails_without_searching(tmp_path: Path) -> None:
    with pytest.raises(NativeDependencyError) as info:
        find_ffmpeg(Settings(ffmpeg_path=str(tmp_path / "nope")), project_root=tmp_path)
    assert "FFMPEG_PATH" in info.value.problem
    assert "FFMPEG_PATH" in info.value.fix
    assert str(tmp_path) not in info.value.user_message


def test_project_bin_comes_before_path(tmp_path: Path) -> None:
    exe = "ffmpeg.exe" if sys.platform == "win32" else "ffmpeg"
    bundled = make_executable(tmp_path / "bin" / exe)
    assert find_ffmpeg(Settings(), project_root=tmp_path) == str(bundled)


def test_path_is_used_when_bin_is_empty(tmp_path: Path) -> None:
    assert find_ffmpeg(Settings(), project_root=tmp_path) == shutil.which("ffmpeg")


def test_missing_ffmpeg_names_the_install_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setattr(native, "HOMEBREW_FFMPEG", ())
    with pytest.raises(NativeDependencyError) as info:
        find_ffmpeg(Settings(), project_root=tmp_path)
    assert native.install_hint(opus=False) in info.value.fix
    assert "FFMPEG_PATH" in info.value.fix


def test_install_hints_per_platform(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "darwin")
    assert native.install_hint() == "brew install ffmpeg opus"
    monkeypatch.setattr(sys, "platform", "linux")
    assert native.install_hint().startswith("sudo apt-get install ffmpeg libopus0")


def test_real_libopus_loads(opus_unloaded: None) -> None:
    loaded = load_opus(Settings())
    assert loaded == ctypes.util.find_library("opus")
    assert discord.opus.is_loaded()
    encoder = discord.opus.Encoder()
    packet = encoder.encode(b"\x00" * discord.opus.Encoder.FRAME_SIZE, discord.opus.Encoder.SAMPLES_PER_FRAME)
    assert 0 < len(packet) < 100
    assert load_opus(Settings()) is None  # already loaded: nothing to do


def test_opus_override_pointing_at_a_non_library_fails_clearly(tmp_path: Path, opus_unloaded: None) -> None:
    bogus = tmp_path / "libopus.so"
    bogus.write_text("not a library")
    with pytest.raises(NativeDependencyError) as info:
        load_opus(Settings(opus_library=str(bogus)))
    assert "OPUS_LIBRARY" in info.value.problem and str(bogus) in info.value.problem
    assert "OPUS_LIBRARY" in info.value.fix
    assert not discord.opus.is_loaded()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs a non-opus shared library by name")
def test_opus_override_pointing_at_another_library_fails_clearly(opus_unloaded: None) -> None:
    with pytest.raises(NativeDependencyError, match="OPUS_LIBRARY"):
        load_opus(Settings(opus_library=ctypes.util.find_library("c") or "libc.so.6"))
    assert not discord.opus.is_loaded()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the Linux entry of the fallback list")
def test_explicit_fallback_when_find_library_finds_nothing(
    monkeypatch: pytest.MonkeyPatch, opus_unloaded: None
) -> None:
    # What macOS does for a non-Homebrew Python: find_library('opus') -> None. The macOS paths in the
    # real fallback list do not exist here, so the loader must step past them to libopus.so.0.
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None)
    assert native.opus_candidates(Settings()) == list(native.OPUS_FALLBACKS)
    assert load_opus(Settings()) == "libopus.so.0"
    assert discord.opus.is_loaded()


def test_no_opus_anywhere_gives_the_install_command(monkeypatch: pytest.MonkeyPatch, opus_unloaded: None) -> None:
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None)
    monkeypatch.setattr(native, "OPUS_FALLBACKS", ("/nonexistent/libopus.dylib",))
    with pytest.raises(NativeDependencyError) as info:
        load_opus(Settings())
    assert native.install_hint(ffmpeg=False) in info.value.fix
