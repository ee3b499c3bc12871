"""Start-up configuration: one frozen :class:`Settings`, read once from ``credentials.env`` and the environment.

Precedence: a variable set (non-empty) in the real environment wins over the same key in the file,
so a service manager or a one-off ``LOG_LEVEL=DEBUG python main.py`` can override the file without
editing it. The file is read with :func:`dotenv.dotenv_values`, so ``os.environ`` is never modified.
An empty value means "unset" and gives the default.

Every parsing problem raises :class:`SettingsError` with a one-line message naming the variable; a
missing or malformed token raises :class:`TokenError`, whose message is a paragraph telling the owner
how to get one. Neither ever contains the token itself.
"""

from __future__ import annotations

import logging
import math
import os
import re
import stat
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import dotenv_values

from audio.executors import DEFAULT_EXECUTOR_MODE, ExecutorMode
from audio.extractor.config import DEFAULT_PLAYLIST_LIMIT, DEFAULT_TIMEOUT
from audio.track import Provider
from bot.sharding import Shards, parse_shards
from bot.source_settings import SourceSettings, source_settings

log = logging.getLogger(__name__)

DEFAULT_ENV_FILE = Path("credentials.env")
DEFAULT_PROVIDERS: frozenset[Provider] = frozenset(
    {Provider.YOUTUBE, Provider.SOUNDCLOUD, Provider.BANDCAMP, Provider.DIRECT}
)
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

# Three base64url parts: the bot's user id, a timestamp, an HMAC. Real tokens are ~59-72 characters;
# the bounds here are deliberately looser so a future format change does not lock owners out.
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{18,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{20,}")
_TOKEN_LENGTH = range(50, 121)

TOKEN_HELP = (
    "Get a bot token from the Discord Developer Portal (https://discord.com/developers/applications): "
    "Applications > your app > Bot > Reset Token, and copy it. On the same page enable the MESSAGE CONTENT "
    "and SERVER MEMBERS privileged intents. Then put it in credentials.env as CLIENT_TOKEN=<token> "
    "(copy credentials.env.example to start) and run `chmod 600 credentials.env`."
)


class SettingsError(Exception):
    """A setting could not be parsed; the message names the variable and never contains a secret."""


class TokenError(SettingsError):
    """CLIENT_TOKEN is missing or cannot be a Discord bot token; the message ends with how to get one."""

    def __init__(self, problem: str) -> None:
        super().__init__(f"{problem} {TOKEN_HELP}")
        self.problem = problem


class Secret:
    """A string that does not show itself: ``repr``/``str``/f-strings print a mask, ``reveal()`` gives it.

    It exists so that logging ``settings`` or an exception holding it cannot leak the bot token.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    def __str__(self) -> str:
        return "**********"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the bot reads from its configuration; see credentials.env.example for each key."""

    token: Secret | None = None
    command_prefix: str = "\\"
    log_level: str = "INFO"
    idle_timeout: float = 300.0  # leave voice after this long alone or with nothing playing
    extract_timeout: float = DEFAULT_TIMEOUT
    playlist_limit: int = DEFAULT_PLAYLIST_LIMIT
    max_queue_length: int = 500
    max_user_tracks: int | None = 50  # None: no per-user cap
    max_track_duration: float | None = 3 * 3600.0  # None: no cap
    max_live_duration: float | None = 3 * 3600.0  # a live stream stops after this long; None: never
    allow_private_network: bool = False
    allowed_providers: frozenset[Provider] = DEFAULT_PROVIDERS
    dj_role: str | None = None
    data_dir: Path = Path("data")
    # A PostgreSQL URL can carry a password, so keep it out of repr(settings).
    database_url: str = field(default="sqlite:///data/brent.db", repr=False)
    opus_library: str | None = None
    ffmpeg_path: str | None = None
    default_volume: int = 100
    owner_ids: frozenset[int] = frozenset()
    play_cooldown: tuple[int, float] = (5, 15.0)  # uses per member, per seconds
    search_cooldown: tuple[int, float] = (3, 30.0)
    extractions_per_guild: int = 2
    extractor_mode: str = DEFAULT_EXECUTOR_MODE.value  # where yt-dlp runs (docs/benchmarks.md)
    max_playlist_tracks: int = 500
    max_guild_playlists: int = 50
    max_guild_playlist_tracks: int = 10_000
    ffmpeg_standby: int = 1  # ffmpeg processes of each kind (PCM, Opus copy) kept waiting; 0 = off
    sources: SourceSettings = field(default_factory=SourceSettings)  # MUSIC_DIR, YTDLP_COOKIES, YTDLP_PROXY
    shards: Shards | None = None  # None: one process, every guild (SHARD_COUNT unset); see bot/sharding.py
    env_file: Path | None = None  # the file actually read, if any


DEFAULTS = Settings()  # every default is the field's, written once above


def validate_token(raw: str | None) -> Secret:
    """Check the token's shape (no network) and wrap it; raise :class:`TokenError` with the fix."""
    value = (raw or "").strip()
    if value.lower().startswith("bot "):
        value = value[4:].strip()
    if not value:
        raise TokenError("CLIENT_TOKEN is not set.")
    if any(ch.isspace() for ch in value):
        raise TokenError("CLIENT_TOKEN contains spaces, so it is not a Discord bot token.")
    if len(value) not in _TOKEN_LENGTH or not TOKEN_PATTERN.fullmatch(value):
        raise TokenError(
            "CLIENT_TOKEN does not look like a Discord bot token (three base64 parts separated by dots, "
            "about 70 characters)."
        )
    return Secret(value)


def read_env_file(path: Path) -> dict[str, str]:
    """The file's key/value pairs (empty values dropped); missing file -> {}."""
    if not path.is_file():
        return {}
    try:
        values = dotenv_values(path, encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"cannot read {path}: {exc.__class__.__name__}") from None
    return {key: value for key, value in values.items() if value}


def merged_values(env_file: Path | None, environ: Mapping[str, str]) -> dict[str, str]:
    """File values overlaid by non-empty environment values (the environment wins)."""
    values = read_env_file(env_file) if env_file is not None else {}
    values.update({key: value for key, value in environ.items() if value})
    return values


def shadowed_keys(env_file: Path | None, environ: Mapping[str, str] | None = None) -> list[str]:
    """Keys the file sets to one value and the environment (which wins) to another.

    Worth a start-up warning: an old ``export CLIENT_TOKEN=...`` silently beating a freshly edited
    file is a classic "I reset the token and it still fails".
    """
    if env_file is None:
        return []
    environment = os.environ if environ is None else environ
    file_values = read_env_file(env_file)
    return sorted(
        key for key, value in file_values.items() if environment.get(key) and environment[key] != value
    )


def load_settings(
    env_file: Path | None = DEFAULT_ENV_FILE,
    *,
    environ: Mapping[str, str] | None = None,
    require_token: bool = True,
) -> Settings:
    """Read and validate every setting.

    ``require_token=False`` is for ``--check``: the token is then validated only if present-and-valid
    (an invalid one is left as None; the doctor reports it separately).
    """
    values = merged_values(env_file, os.environ if environ is None else environ)
    if require_token:
        token: Secret | None = validate_token(values.get("CLIENT_TOKEN"))
    else:
        try:
            token = validate_token(values.get("CLIENT_TOKEN"))
        except TokenError:
            token = None

    data_dir = Path(values.get("DATA_DIR", str(DEFAULTS.data_dir))).expanduser()
    try:
        shards = parse_shards(values.get("SHARD_COUNT", ""), values.get("SHARD_IDS", ""))
    except ValueError as exc:
        raise SettingsError(str(exc)) from None
    return Settings(
        token=token,
        command_prefix=_prefix(values),
        log_level=_log_level(values),
        idle_timeout=_number(values, "IDLE_TIMEOUT", DEFAULTS.idle_timeout, minimum=10.0, maximum=7 * 86400.0),
        extract_timeout=_number(values, "EXTRACT_TIMEOUT", DEFAULTS.extract_timeout, minimum=1.0, maximum=600.0),
        playlist_limit=_integer(values, "PLAYLIST_LIMIT", DEFAULTS.playlist_limit, minimum=1, maximum=5000),
        max_queue_length=_integer(
            values, "MAX_QUEUE_LENGTH", DEFAULTS.max_queue_length, minimum=1, maximum=100_000
        ),
        max_user_tracks=_optional_cap(values, "MAX_USER_TRACKS", DEFAULTS.max_user_tracks),
        max_track_duration=_optional_seconds(values, "MAX_TRACK_DURATION", DEFAULTS.max_track_duration),
        max_live_duration=_optional_seconds(values, "MAX_LIVE_DURATION", DEFAULTS.max_live_duration),
        allow_private_network=_boolean(values, "ALLOW_PRIVATE_NETWORK", DEFAULTS.allow_private_network),
        allowed_providers=_providers(values),
        dj_role=values.get("DJ_ROLE", "").strip() or None,
        data_dir=data_dir,
        database_url=_database_url(values, data_dir),
        opus_library=values.get("OPUS_LIBRARY", "").strip() or None,
        ffmpeg_path=values.get("FFMPEG_PATH", "").strip() or None,
        default_volume=_integer(values, "DEFAULT_VOLUME", DEFAULTS.default_volume, minimum=0, maximum=200),
        sources=source_settings(values, SettingsError),
        owner_ids=_owner_ids(values),
        play_cooldown=_rate(values, "PLAY_COOLDOWN", DEFAULTS.play_cooldown),
        search_cooldown=_rate(values, "SEARCH_COOLDOWN", DEFAULTS.search_cooldown),
        extractions_per_guild=_integer(
            values, "EXTRACTIONS_PER_GUILD", DEFAULTS.extractions_per_guild, minimum=1, maximum=20
        ),
        extractor_mode=_choice(
            values, "EXTRACTOR_MODE", DEFAULTS.extractor_mode, tuple(m.value for m in ExecutorMode)
        ),
        max_playlist_tracks=_integer(
            values, "MAX_PLAYLIST_TRACKS", DEFAULTS.max_playlist_tracks, minimum=1, maximum=100_000
        ),
        max_guild_playlists=_integer(
            values, "MAX_GUILD_PLAYLISTS", DEFAULTS.max_guild_playlists, minimum=1, maximum=10_000
        ),
        max_guild_playlist_tracks=_integer(
            values,
            "MAX_GUILD_PLAYLIST_TRACKS",
            DEFAULTS.max_guild_playlist_tracks,
            minimum=1,
            maximum=1_000_000,
        ),
        ffmpeg_standby=_integer(values, "FFMPEG_STANDBY", DEFAULTS.ffmpeg_standby, minimum=0, maximum=4),
        shards=shards,
        env_file=env_file if env_file is not None and env_file.is_file() else None,
    )


def permission_warning(env_file: Path | None) -> str | None:
    """A warning when the credentials file is readable by group or others (skipped on Windows)."""
    if env_file is None or sys.platform == "win32":
        return None
    try:
        mode = env_file.stat().st_mode
    except OSError:
        return None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        return (
            f"{env_file} is readable by other users of this machine (mode {stat.filemode(mode)}) and holds "
            f"the bot token; fix it with: chmod 600 {env_file}"
        )
    return None


def _prefix(values: Mapping[str, str]) -> str:
    prefix = values.get("COMMAND_PREFIX", DEFAULTS.command_prefix)
    if len(prefix) > 5 or any(ch.isspace() or not ch.isprintable() for ch in prefix):
        raise SettingsError("COMMAND_PREFIX must be 1-5 visible characters without spaces, e.g. \\ or !")
    return prefix


def _log_level(values: Mapping[str, str]) -> str:
    level = values.get("LOG_LEVEL", DEFAULTS.log_level).strip().upper()
    if level not in LOG_LEVELS:
        raise SettingsError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}")
    return level


def _number(values: Mapping[str, str], name: str, default: float, *, minimum: float, maximum: float) -> float:
    raw = values.get(name)
    if raw is None:
        return default
    try:
        number = float(raw.strip())
    except ValueError:
        raise SettingsError(f"{name} must be a number of seconds, e.g. {default:g}") from None
    if not math.isfinite(number) or not minimum <= number <= maximum:
        raise SettingsError(f"{name} must be between {minimum:g} and {maximum:g}")
    return number


def _integer(values: Mapping[str, str], name: str, default: int, *, minimum: int, maximum: int) -> int:
    raw = values.get(name)
    if raw is None:
        return default
    try:
        number = int(raw.strip())
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, e.g. {default}") from None
    if not minimum <= number <= maximum:
        raise SettingsError(f"{name} must be between {minimum} and {maximum}")
    return number


def _optional_cap(values: Mapping[str, str], name: str, default: int | None) -> int | None:
    number = _integer(values, name, default or 0, minimum=0, maximum=100_000)
    return number or None


def _optional_seconds(values: Mapping[str, str], name: str, default: float | None) -> float | None:
    number = _number(values, name, default or 0.0, minimum=0.0, maximum=7 * 86400.0)
    return number or None


def _boolean(values: Mapping[str, str], name: str, default: bool) -> bool:
    raw = values.get(name)
    if raw is None:
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{name} must be 0 or 1")


def _providers(values: Mapping[str, str]) -> frozenset[Provider]:
    raw = values.get("ALLOWED_PROVIDERS")
    if raw is None:
        return DEFAULT_PROVIDERS
    names = [part.strip().lower() for part in raw.split(",") if part.strip()]
    known = {provider.value: provider for provider in Provider if provider is not Provider.LOCAL}  # MUSIC_DIR
    unknown = [name for name in names if name not in known]
    if unknown or not names:
        raise SettingsError(
            f"ALLOWED_PROVIDERS must be a comma list of {', '.join(known)} (got an unknown or empty entry)"
        )
    return frozenset(known[name] for name in names)


def _database_url(values: Mapping[str, str], data_dir: Path) -> str:
    url = values.get("DATABASE_URL", "").strip()
    if not url:
        return f"sqlite:///{(data_dir / 'brent.db').as_posix()}"
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme not in {"sqlite", "postgres", "postgresql"}:
        raise SettingsError(
            "DATABASE_URL must start with sqlite:/// or postgresql:// (e.g. sqlite:///data/brent.db)"
        )
    return url


def _owner_ids(values: Mapping[str, str]) -> frozenset[int]:
    raw = values.get("OWNER_IDS")
    if raw is None:
        return frozenset()
    ids: set[int] = set()
    for part in raw.split(","):
        part = part.strip()
        if not part:
            continue
        if not part.isascii() or not part.isdigit() or not 15 <= len(part) <= 20:
            raise SettingsError("OWNER_IDS must be a comma list of Discord user ids (15-20 digits each)")
        ids.add(int(part))
    return frozenset(ids)


def _rate(values: Mapping[str, str], name: str, default: tuple[int, float]) -> tuple[int, float]:
    """``uses/seconds`` such as ``5/15``: at most 5 uses per member in 15 seconds."""
    raw = values.get(name, "").strip()
    if not raw:
        return default
    uses, sep, seconds = raw.partition("/")
    try:
        parsed = (int(uses), float(seconds))
    except ValueError:
        parsed = (0, 0.0)
    if not sep or not (1 <= parsed[0] <= 1000) or not (0.1 <= parsed[1] <= 86400.0):
        raise SettingsError(f"{name} must look like 5/15 (uses per member / seconds), not {raw[:40]!r}.")
    return parsed


def _choice(values: Mapping[str, str], name: str, default: str, allowed: tuple[str, ...]) -> str:
    raw = values.get(name, "").strip().lower()
    if not raw:
        return default
    if raw not in allowed:
        raise SettingsError(f"{name} must be one of {', '.join(allowed)}, not {raw[:40]!r}.")
    return raw
