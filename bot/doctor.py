"""``python main.py --check``: is this machine ready to run BRENT? Answered without connecting anywhere.

One line per check, OK / WARN / FAIL, and for every problem the exact command or setting that fixes
it. FAIL means the bot cannot play audio (or cannot start); WARN means it starts but something is
degraded (no token yet, no JavaScript runtime for YouTube, a world-readable credentials file).
"""

from __future__ import annotations

import enum
import importlib
import importlib.metadata
import logging
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import discord

from bot import native
from bot.settings import (
    DEFAULT_ENV_FILE,
    TOKEN_HELP,
    Settings,
    SettingsError,
    TokenError,
    load_settings,
    merged_values,
    permission_warning,
    validate_token,
)

log = logging.getLogger(__name__)

MIN_PYTHON = (3, 11)
MIN_DISCORD = (2, 7)
SUBPROCESS_TIMEOUT = 15.0


class Status(enum.StrEnum):
    OK = "OK"
    WARN = "WARN"
    FAIL = "FAIL"


@dataclass(frozen=True, slots=True)
class CheckResult:
    name: str
    status: Status
    detail: str
    fix: str | None = None

    def line(self) -> str:
        text = f"{self.status.value:<4} {self.name:<12} {self.detail}"
        if self.fix and self.status is not Status.OK:
            text += f"\n{'':17}fix: {self.fix}"
        return text


def check_python(version: tuple[int, ...] = tuple(sys.version_info[:3])) -> CheckResult:
    shown = ".".join(map(str, version))
    if version[:2] >= MIN_PYTHON:
        return CheckResult("python", Status.OK, shown)
    return CheckResult(
        "python", Status.FAIL, f"{shown} is too old (need 3.11 or newer)",
        "install Python 3.11+ (macOS: brew install python@3.12; Debian: sudo apt-get install python3.11), "
        "then recreate the virtualenv",
    )


def check_discord() -> list[CheckResult]:
    """discord.py >= 2.7 with davey and PyNaCl: Discord closes voice without DAVE (code 4017) since 2026-03."""
    reinstall = 'pip install -r requirements.txt  (it pins "discord.py[voice]==2.7.1")'
    results: list[CheckResult] = []
    try:
        version = importlib.metadata.version("discord.py")
    except importlib.metadata.PackageNotFoundError:
        return [CheckResult("discord.py", Status.FAIL, "not installed", reinstall)]
    if _version_tuple(version)[:2] >= MIN_DISCORD:
        results.append(CheckResult("discord.py", Status.OK, version))
    else:
        results.append(
            CheckResult(
                "discord.py", Status.FAIL,
                f"{version} cannot join voice: Discord requires DAVE (close code 4017) since March 2026",
                reinstall,
            )
        )
    for module, dist, why in (("davey", "davey", "DAVE voice encryption"), ("nacl", "PyNaCl", "voice transport")):
        try:
            importlib.import_module(module)
        except ImportError as exc:
            results.append(
                CheckResult(dist, Status.FAIL, f"cannot import {module} ({why}): {exc.__class__.__name__}", reinstall)
            )
        else:
            results.append(CheckResult(dist, Status.OK, _dist_version(dist)))
    return results


def check_ffmpeg(settings: Settings) -> CheckResult:
    try:
        path = native.find_ffmpeg(settings)
    except native.NativeDependencyError as exc:
        return CheckResult("ffmpeg", Status.FAIL, exc.problem, exc.fix)
    version = native.ffmpeg_version(path, SUBPROCESS_TIMEOUT)
    if version is None:
        return CheckResult(
            "ffmpeg", Status.FAIL, f"{path} does not run or did not report a version",
            native.install_hint(opus=False),
        )
    return CheckResult("ffmpeg", Status.OK, f"{version} ({path})")


def check_opus(settings: Settings) -> CheckResult:
    try:
        loaded = native.load_opus(settings)
    except native.NativeDependencyError as exc:
        return CheckResult("libopus", Status.FAIL, exc.problem, exc.fix)
    try:
        version = discord.opus._OpusStruct.get_opus_version()
    except Exception:  # only decoration; loading is what matters
        version = "loaded"
    return CheckResult("libopus", Status.OK, f"{version}" + (f" ({loaded})" if loaded else ""))


def check_ytdlp() -> list[CheckResult]:
    upgrade = "pip install -r requirements.txt  (pins yt-dlp[default,deno]; upgrade yt-dlp often)"
    try:
        from yt_dlp.version import __version__ as ytdlp_version
    except ImportError:
        return [CheckResult("yt-dlp", Status.FAIL, "not installed", upgrade)]
    results = [CheckResult("yt-dlp", Status.OK, ytdlp_version)]
    try:
        importlib.import_module("yt_dlp_ejs")
    except ImportError:
        results.append(
            CheckResult("yt-dlp-ejs", Status.WARN, "missing: YouTube signature solving will fail", upgrade)
        )
    else:
        results.append(CheckResult("yt-dlp-ejs", Status.OK, _dist_version("yt-dlp-ejs")))
    results.append(check_js_runtime())
    return results


def find_deno() -> str | None:
    """deno on PATH, else the binary of the PyPI ``deno`` package (where yt-dlp also finds it)."""
    on_path = shutil.which("deno")
    if on_path:
        return on_path
    try:
        import deno
    except ImportError:
        return None
    try:
        return str(deno.find_deno_bin())
    except (FileNotFoundError, OSError):
        return None


def check_js_runtime() -> CheckResult:
    fix = 'pip install "yt-dlp[default,deno]" (or install deno: https://deno.com)'
    path = find_deno()
    if path is None:
        return CheckResult("js runtime", Status.WARN, "no deno: YouTube formats may be missing", fix)
    try:
        done = subprocess.run(
            [path, "--version"], capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT,
            stdin=subprocess.DEVNULL, check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return CheckResult("js runtime", Status.WARN, f"{path} does not run ({exc.__class__.__name__})", fix)
    match = re.match(r"deno (\S+)", done.stdout)
    if done.returncode != 0 or match is None:
        return CheckResult("js runtime", Status.WARN, f"{path} did not report a version", fix)
    return CheckResult("js runtime", Status.OK, f"deno {match.group(1)} ({path})")


def check_credentials(env_file: Path | None, environ: dict[str, str] | None = None) -> list[CheckResult]:
    """Token presence and shape only (never its value, never a login); file permissions."""
    results: list[CheckResult] = []
    environment = dict(os.environ) if environ is None else environ
    if env_file is not None and env_file.is_file():
        results.append(CheckResult("credentials", Status.OK, str(env_file)))
        warning = permission_warning(env_file)
        if warning:
            results.append(CheckResult("permissions", Status.WARN, warning, f"chmod 600 {env_file}"))
    else:
        results.append(
            CheckResult(
                "credentials", Status.WARN, f"{env_file or DEFAULT_ENV_FILE} not found",
                "cp credentials.env.example credentials.env && chmod 600 credentials.env, then fill in CLIENT_TOKEN",
            )
        )
    try:
        values = merged_values(env_file, environment)
        validate_token(values.get("CLIENT_TOKEN"))
    except TokenError as exc:
        results.append(CheckResult("token", Status.WARN, exc.problem, TOKEN_HELP))
    except SettingsError as exc:  # the file itself could not be read
        results.append(CheckResult("token", Status.WARN, str(exc), "make credentials.env readable by you"))
    else:
        results.append(CheckResult("token", Status.OK, "present and well-formed (not checked with Discord)"))
    return results


def run_checks(env_file: Path | None = DEFAULT_ENV_FILE, environ: dict[str, str] | None = None) -> list[CheckResult]:
    """Every check, in the order they are printed; a settings error does not stop the rest."""
    results = [check_python(), *check_discord()]
    try:
        settings = load_settings(env_file, environ=environ, require_token=False)
        results.append(CheckResult("settings", Status.OK, "all values parse"))
    except SettingsError as exc:
        results.append(CheckResult("settings", Status.FAIL, str(exc), "correct it in credentials.env"))
        settings = Settings()
    results.append(check_ffmpeg(settings))
    results.append(check_opus(settings))
    results.extend(check_ytdlp())
    results.extend(check_credentials(env_file, environ))
    return results


def report(results: Iterable[CheckResult], out: TextIO) -> int:
    """Print the lines; 0 when nothing FAILed, else 1."""
    results = list(results)
    for result in results:
        print(result.line(), file=out)
    failed = [r.name for r in results if r.status is Status.FAIL]
    print(f"\n{'FAILED: ' + ', '.join(failed) if failed else 'All required checks passed.'}", file=out)
    return 1 if failed else 0


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version)[:3])


def _dist_version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "installed"

