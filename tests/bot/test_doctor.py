from __future__ import annotations

import io
from pathlib import Path

import pytest

from bot import doctor
from bot.doctor import CheckResult, Status, report
from bot.settings import Settings

FAKE_TOKEN = "MTA1NjQ4OTk5OTk5OTk5OTk5OQ.GabcDE.abcdefghijklmnopqrstuvwxyz0123456789AB"


def test_python_version_gate() -> None:
    assert doctor.check_python((3, 11, 0)).status is Status.OK
    old = doctor.check_python((3, 10, 12))
    assert old.status is Status.FAIL and old.fix and "3.11" in old.detail


def test_discord_stack_is_ok_here() -> None:
    results = {r.name: r for r in doctor.check_discord()}
    assert results["discord.py"].status is Status.OK and results["discord.py"].detail.startswith("2.7")
    assert results["davey"].status is Status.OK
    assert results["PyNaCl"].status is Status.OK


def test_old_discord_py_fails_with_the_dave_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    real_version = doctor.importlib.metadata.version
    monkeypatch.setattr(
        doctor.importlib.metadata, "version", lambda name: "2.6.4" if name == "discord.py" else real_version(name)
    )
    result = next(r for r in doctor.check_discord() if r.name == "discord.py")
    assert result.status is Status.FAIL
    assert "4017" in result.detail and "DAVE" in result.detail
    assert result.fix is not None and "requirements.txt" in result.fix


def test_ffmpeg_check_runs_the_real_binary() -> None:
    result = doctor.check_ffmpeg(Settings())
    assert result.status is Status.OK
    assert result.detail.startswith("ffmpeg version ")


def test_ffmpeg_check_that_is_not_ffmpeg(tmp_path: Path) -> None:
    impostor = tmp_path / "ffmpeg"
    impostor.write_text("#!/bin/sh\necho hello\n")
    impostor.chmod(0o755)
    result = doctor.check_ffmpeg(Settings(ffmpeg_path=str(impostor)))
    assert result.status is Status.FAIL and "did not report a version" in result.detail and result.fix


def test_missing_ffmpeg_override_fails_with_the_fix(tmp_path: Path) -> None:
    result = doctor.check_ffmpeg(Settings(ffmpeg_path=str(tmp_path / "nope")))
    assert result.status is Status.FAIL and result.fix and "FFMPEG_PATH" in result.fix


def test_deno_is_found_and_runs() -> None:
    result = doctor.check_js_runtime()
    assert result.status is Status.OK and result.detail.startswith("deno ")


def test_no_deno_is_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(doctor, "find_deno", lambda: None)
    result = doctor.check_js_runtime()
    assert result.status is Status.WARN and result.fix and "deno" in result.fix


def test_credentials_checks_never_print_the_token(tmp_path: Path) -> None:
    env_file = tmp_path / "credentials.env"
    env_file.write_text(f"CLIENT_TOKEN={FAKE_TOKEN}\n")
    env_file.chmod(0o600)
    results = doctor.check_credentials(env_file, environ={})
    assert [(r.name, r.status) for r in results] == [("credentials", Status.OK), ("token", Status.OK)]
    assert all(FAKE_TOKEN not in r.line() for r in results)

    env_file.write_text("CLIENT_TOKEN=your-token-here\n")
    token = next(r for r in doctor.check_credentials(env_file, environ={}) if r.name == "token")
    assert token.status is Status.WARN and token.fix and "Reset Token" in token.fix
    assert "your-token-here" not in token.line()


def test_token_from_the_environment_counts(tmp_path: Path) -> None:
    results = {r.name: r for r in doctor.check_credentials(tmp_path / "absent.env", environ={"CLIENT_TOKEN": FAKE_TOKEN})}
    assert results["credentials"].status is Status.WARN
    assert results["token"].status is Status.OK


def test_report_exit_code_and_fix_lines() -> None:
    out = io.StringIO()
    ok = [CheckResult("python", Status.OK, "3.11.7"), CheckResult("token", Status.WARN, "not set", "do X")]
    assert report(ok, out) == 0
    assert "fix: do X" in out.getvalue() and "All required checks passed." in out.getvalue()
    out = io.StringIO()
    assert report([*ok, CheckResult("ffmpeg", Status.FAIL, "missing", "brew install ffmpeg")], out) == 1
    assert "FAILED: ffmpeg" in out.getvalue() and "fix: brew install ffmpeg" in out.getvalue()
