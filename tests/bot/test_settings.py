from __future__ import annotations

import dataclasses
import inspect
import os
import re
import stat
import sys
from pathlib import Path

import pytest

from audio.track import Provider
from bot import source_settings
from bot.settings import (
    DEFAULT_PROVIDERS,
    Secret,
    Settings,
    SettingsError,
    TokenError,
    load_settings,
    permission_warning,
    shadowed_keys,
    validate_token,
)

# Shaped like a real token (id.timestamp.hmac) but not one.
FAKE_TOKEN = "MTA1NjQ4OTk5OTk5OTk5OTk5OQ.GabcDE.abcdefghijklmnopqrstuvwxyz0123456789AB"


def write_env(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "credentials.env"
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path


def test_defaults_when_only_the_token_is_set(tmp_path: Path) -> None:
    settings = load_settings(write_env(tmp_path, f"CLIENT_TOKEN={FAKE_TOKEN}\n"), environ={})
    assert settings.token == Secret(FAKE_TOKEN)
    assert settings.command_prefix == "\\"
    assert settings.log_level == "INFO"
    assert settings.idle_timeout == 300.0
    assert settings.extract_timeout == 30.0
    assert settings.playlist_limit == 100
    assert settings.max_queue_length == 500
    assert settings.max_user_tracks == 50
    assert settings.max_track_duration == 10800.0
    assert settings.max_live_duration == 10800.0
    assert settings.allow_private_network is False
    assert settings.allowed_providers == DEFAULT_PROVIDERS == frozenset(
        {Provider.YOUTUBE, Provider.SOUNDCLOUD, Provider.BANDCAMP, Provider.DIRECT}
    )
    assert settings.dj_role is None
    assert settings.data_dir == Path("data")
    assert settings.database_url == "sqlite:///data/brent.db"
    assert settings.opus_library is None and settings.ffmpeg_path is None
    assert settings.default_volume == 100
    assert settings.owner_ids == frozenset()
    assert settings.env_file == tmp_path / "credentials.env"


def test_every_variable_is_parsed(tmp_path: Path) -> None:
    env = write_env(
        tmp_path,
        "\n".join(
            [
                f"CLIENT_TOKEN={FAKE_TOKEN}",
                "COMMAND_PREFIX=!",
                "LOG_LEVEL=debug",
                "IDLE_TIMEOUT=10",
                "EXTRACT_TIMEOUT=12.5",
                "PLAYLIST_LIMIT=25",
                "MAX_QUEUE_LENGTH=50",
                "MAX_USER_TRACKS=0",
                "MAX_TRACK_DURATION=0",
                "MAX_LIVE_DURATION=5400",
                "ALLOW_PRIVATE_NETWORK=1",
                "ALLOWED_PROVIDERS= YouTube , direct",
                "DJ_ROLE=Music Team",
                "DATA_DIR=/srv/brent",
                "OPUS_LIBRARY=/opt/homebrew/lib/libopus.dylib",
                "FFMPEG_PATH=/usr/local/bin/ffmpeg",
                "DEFAULT_VOLUME=60",
                "FFMPEG_STANDBY=3",
                "OWNER_IDS=123456789012345678, 223456789012345678",
            ]
        ),
    )
    settings = load_settings(env, environ={})
    assert settings.command_prefix == "!"
    assert settings.log_level == "DEBUG"
    assert settings.idle_timeout == 10.0
    assert settings.extract_timeout == 12.5
    assert settings.playlist_limit == 25
    assert settings.max_queue_length == 50
    assert settings.max_user_tracks is None
    assert settings.max_track_duration is None
    assert settings.max_live_duration == 5400.0
    assert settings.allow_private_network is True
    assert settings.allowed_providers == frozenset({Provider.YOUTUBE, Provider.DIRECT})
    assert settings.dj_role == "Music Team"
    assert settings.data_dir == Path("/srv/brent")
    assert settings.database_url == "sqlite:////srv/brent/brent.db"
    assert settings.opus_library == "/opt/homebrew/lib/libopus.dylib"
    assert settings.ffmpeg_path == "/usr/local/bin/ffmpeg"
    assert settings.default_volume == 60
    assert settings.ffmpeg_standby == 3
    assert settings.owner_ids == frozenset({123456789012345678, 223456789012345678})


def test_environment_wins_over_the_file_and_empty_means_unset(tmp_path: Path) -> None:
    env = write_env(tmp_path, f"CLIENT_TOKEN={FAKE_TOKEN}\nLOG_LEVEL=ERROR\nPLAYLIST_LIMIT=7\n")
    settings = load_settings(env, environ={"LOG_LEVEL": "WARNING", "PLAYLIST_LIMIT": ""})
    assert settings.log_level == "WARNING"
    assert settings.playlist_limit == 7


def test_loading_does_not_touch_os_environ(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BRENT_TEST_ONLY_KEY", raising=False)
    env = write_env(tmp_path, f"CLIENT_TOKEN={FAKE_TOKEN}\nBRENT_TEST_ONLY_KEY=1\n")
    load_settings(env, environ={})
    assert "BRENT_TEST_ONLY_KEY" not in os.environ


def test_database_url_is_kept_out_of_repr(tmp_path: Path) -> None:
    env = write_env(tmp_path, f"CLIENT_TOKEN={FAKE_TOKEN}\nDATABASE_URL=postgresql://brent:hunter2@db/brent\n")
    settings = load_settings(env, environ={})
    assert settings.database_url == "postgresql://brent:hunter2@db/brent"
    assert "hunter2" not in repr(settings)
    assert FAKE_TOKEN not in repr(settings) and FAKE_TOKEN not in str(settings)


@pytest.mark.parametrize(
    ("line", "variable"),
    [
        ("COMMAND_PREFIX=a b", "COMMAND_PREFIX"),
        ("COMMAND_PREFIX=toolong", "COMMAND_PREFIX"),
        ("LOG_LEVEL=loud", "LOG_LEVEL"),
        ("IDLE_TIMEOUT=soon", "IDLE_TIMEOUT"),
        ("IDLE_TIMEOUT=-1", "IDLE_TIMEOUT"),
        ("IDLE_TIMEOUT=0", "IDLE_TIMEOUT"),
        ("IDLE_TIMEOUT=nan", "IDLE_TIMEOUT"),
        ("EXTRACT_TIMEOUT=0", "EXTRACT_TIMEOUT"),
        ("EXTRACT_TIMEOUT=inf", "EXTRACT_TIMEOUT"),
        ("PLAYLIST_LIMIT=1.5", "PLAYLIST_LIMIT"),
        ("PLAYLIST_LIMIT=0", "PLAYLIST_LIMIT"),
        ("MAX_QUEUE_LENGTH=-3", "MAX_QUEUE_LENGTH"),
        ("MAX_USER_TRACKS=many", "MAX_USER_TRACKS"),
        ("MAX_TRACK_DURATION=1h", "MAX_TRACK_DURATION"),
        ("MAX_LIVE_DURATION=3h", "MAX_LIVE_DURATION"),
        ("MAX_LIVE_DURATION=-5", "MAX_LIVE_DURATION"),
        ("MAX_LIVE_DURATION=inf", "MAX_LIVE_DURATION"),
        ("ALLOW_PRIVATE_NETWORK=maybe", "ALLOW_PRIVATE_NETWORK"),
        ("ALLOWED_PROVIDERS=youtube,spotify", "ALLOWED_PROVIDERS"),
        ("ALLOWED_PROVIDERS=,", "ALLOWED_PROVIDERS"),
        ("DATABASE_URL=mysql://x/y", "DATABASE_URL"),
        ("DEFAULT_VOLUME=201", "DEFAULT_VOLUME"),
        ("DEFAULT_VOLUME=loud", "DEFAULT_VOLUME"),
        ("FFMPEG_STANDBY=5", "FFMPEG_STANDBY"),
        ("FFMPEG_STANDBY=-1", "FFMPEG_STANDBY"),
        ("FFMPEG_STANDBY=1.5", "FFMPEG_STANDBY"),
        ("OWNER_IDS=123,abc", "OWNER_IDS"),
        ("OWNER_IDS=12", "OWNER_IDS"),
    ],
)
def test_bad_values_name_the_variable_in_one_line(tmp_path: Path, line: str, variable: str) -> None:
    env = write_env(tmp_path, f"CLIENT_TOKEN={FAKE_TOKEN}\n{line}\n")
    with pytest.raises(SettingsError) as info:
        load_settings(env, environ={})
    message = str(info.value)
    assert message.startswith(variable)
    assert "\n" not in message
    assert not isinstance(info.value, TokenError)


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "your-token-here",
        "[token]",
        "MTA1NjQ4OTk5OTk5OTk5OTk5OQ GabcDE abcdefghijklmnopqrstuvwxyz0123456789AB",
        "MTA1NjQ4OTk5OTk5OTk5OTk5OQ.GabcDE",
        FAKE_TOKEN + "!",
        "a.b.c",
        "x" * 70,
    ],
)
def test_malformed_tokens_raise_the_paragraph_without_echoing_the_value(raw: str) -> None:
    with pytest.raises(TokenError) as info:
        validate_token(raw)
    message = str(info.value)
    assert "Developer Portal" in message and "Reset Token" in message
    assert "MESSAGE CONTENT" in message and "SERVER MEMBERS" in message
    assert "CLIENT_TOKEN=" in message
    if raw.strip():
        assert raw.strip() not in message


def test_missing_token_file_raises_token_error(tmp_path: Path) -> None:
    with pytest.raises(TokenError, match="CLIENT_TOKEN is not set"):
        load_settings(tmp_path / "absent.env", environ={})


def test_token_is_optional_for_the_doctor(tmp_path: Path) -> None:
    settings = load_settings(write_env(tmp_path, "CLIENT_TOKEN=your-token-here\n"), environ={}, require_token=False)
    assert settings.token is None


def test_token_may_carry_a_bot_prefix_and_quotes(tmp_path: Path) -> None:
    settings = load_settings(write_env(tmp_path, f'CLIENT_TOKEN="Bot {FAKE_TOKEN}"\n'), environ={})
    assert settings.token is not None and settings.token.reveal() == FAKE_TOKEN


def test_secret_hides_its_value_everywhere() -> None:
    secret = Secret(FAKE_TOKEN)
    assert FAKE_TOKEN not in repr(secret)
    assert FAKE_TOKEN not in str(secret)
    assert FAKE_TOKEN not in f"{secret}"
    assert FAKE_TOKEN not in repr(Settings(token=secret))
    assert secret.reveal() == FAKE_TOKEN


def test_settings_are_frozen() -> None:
    settings = Settings()
    with pytest.raises(AttributeError):
        settings.log_level = "DEBUG"  # type: ignore[misc]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_permission_warning_for_group_or_world_readable_file(tmp_path: Path) -> None:
    env = write_env(tmp_path, f"CLIENT_TOKEN={FAKE_TOKEN}\n")
    assert permission_warning(env) is None
    env.chmod(0o644)
    warning = permission_warning(env)
    assert warning is not None
    assert f"chmod 600 {env}" in warning
    assert stat.filemode(env.stat().st_mode) in warning
    env.chmod(0o640)
    assert permission_warning(env) is not None
    assert permission_warning(tmp_path / "absent.env") is None


def test_the_example_file_documents_every_setting_with_its_default() -> None:
    example = Path(__file__).resolve().parents[2] / "credentials.env.example"
    keys = [line.split("=", 1)[0] for line in example.read_text(encoding="utf-8").splitlines()
            if line and not line.startswith("#")]
    source = inspect.getsource(sys.modules[load_settings.__module__]) + inspect.getsource(source_settings)
    read = set(re.findall(r'values(?:\.get\(|\[|,\s*)"([A-Z][A-Z0-9_]+)"', source))
    assert len(keys) == len(set(keys))
    assert set(keys) == read
    parsed = load_settings(example, environ={}, require_token=False)
    assert dataclasses.replace(parsed, env_file=None) == Settings()


def test_shadowed_keys_names_file_values_the_environment_overrides(tmp_path: Path) -> None:
    env = write_env(tmp_path, f"CLIENT_TOKEN={FAKE_TOKEN}\nLOG_LEVEL=INFO\nPLAYLIST_LIMIT=5\n")
    environ = {"CLIENT_TOKEN": FAKE_TOKEN[:-1] + "C", "LOG_LEVEL": "INFO", "PLAYLIST_LIMIT": ""}
    assert shadowed_keys(env, environ) == ["CLIENT_TOKEN"]
    assert shadowed_keys(None, environ) == []


@pytest.mark.parametrize(("raw", "expected"), [(None, 1), ("0", 0), ("4", 4)])
def test_ffmpeg_standby_defaults_to_one_and_zero_turns_it_off(
    tmp_path: Path, raw: str | None, expected: int
) -> None:
    line = "" if raw is None else f"FFMPEG_STANDBY={raw}\n"
    settings = load_settings(write_env(tmp_path, f"CLIENT_TOKEN={FAKE_TOKEN}\n{line}"), environ={})
    assert settings.ffmpeg_standby == expected


@pytest.mark.parametrize(("raw", "expected"), [(None, 10800.0), ("", 10800.0), ("0", None), ("90.5", 90.5)])
def test_max_live_duration_defaults_to_three_hours_and_zero_means_no_cap(
    tmp_path: Path, raw: str | None, expected: float | None
) -> None:
    line = "" if raw is None else f"MAX_LIVE_DURATION={raw}\n"
    settings = load_settings(write_env(tmp_path, f"CLIENT_TOKEN={FAKE_TOKEN}\n{line}"), environ={})
    assert settings.max_live_duration == expected
    assert settings.max_track_duration == 10800.0  # a separate cap


def test_a_bad_max_live_duration_says_what_it_must_be(tmp_path: Path) -> None:
    env = write_env(tmp_path, f"CLIENT_TOKEN={FAKE_TOKEN}\nMAX_LIVE_DURATION=forever\n")
    with pytest.raises(SettingsError, match=r"^MAX_LIVE_DURATION must be a number of seconds"):
        load_settings(env, environ={})
