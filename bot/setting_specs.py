"""Per-server settings as members type them: each name, what it means, how its value is read and shown.

``parse_setting`` turns typed text into the text stored for it (or None: back to the bot-wide
default) and raises :class:`SettingRefused` with a reply that lists the valid names or values.
Roles and channels are read from the guild (mention, id or name) and stored by id.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import discord

from audio.errors import BrentError
from audio.queue_order import QueueMode
from bot.converters import InvalidArgument, parse_timestamp, parse_volume
from bot.settings import Settings
from bot.text import code_span, format_duration

log = logging.getLogger(__name__)

RESET_WORDS = frozenset({"default", "reset"})
SEARCH_SITES: dict[str, str] = {"youtube": "ytsearch", "soundcloud": "scsearch"}
MIN_IDLE, MAX_IDLE = 10.0, 24 * 3600.0
_Named = TypeVar("_Named", discord.Role, discord.TextChannel, discord.VoiceChannel, discord.StageChannel)
_ID = re.compile(r"<[@#]&?(\d{15,21})>|(\d{15,21})", re.ASCII)


class SettingRefused(BrentError):
    """A setting name or value that cannot be used; the message lists what can."""


@dataclass(frozen=True, slots=True)
class SettingSpec:
    name: str
    meaning: str
    values: str  # what may be typed, for the refusal and `settings`
    parse: Callable[[str, discord.Guild, Settings], str]


def _role(text: str, guild: discord.Guild, _: Settings) -> str:
    role = _find(text, guild.roles)
    if role is None:
        raise SettingRefused(f"No role here is named {code_span(text, 60)}. Give a role mention, id or name.")
    return str(role.id)


def _announce(text: str, guild: discord.Guild, _: Settings) -> str:
    if text.lower() in ("here", "off"):
        return text.lower()
    channel = _find(text, guild.text_channels)
    if channel is None:
        raise SettingRefused(f"{code_span(text, 60)} is not `here`, `off` or a text channel of this server.")
    return str(channel.id)


def _text_channels(text: str, guild: discord.Guild, _: Settings) -> str:
    if text.lower() == "all":
        return "all"
    found = []
    for part in re.split(r"[\s,]+", text.strip()):
        channel = _find(part, guild.text_channels)
        if channel is None:
            raise SettingRefused(f"{code_span(part, 60)} is not a text channel of this server (or say `all`).")
        found.append(str(channel.id))
    return " ".join(dict.fromkeys(found))


def _voice(text: str, guild: discord.Guild, _: Settings) -> str:
    if text.lower() == "any":
        return "any"
    channel = _find(text, guild.voice_channels) or _find(text, guild.stage_channels)
    if channel is None:
        raise SettingRefused(f"{code_span(text, 60)} is not `any` or a voice channel of this server.")
    return str(channel.id)


def _switch(text: str, guild: discord.Guild, _: Settings) -> str:
    word = text.lower()
    if word in ("on", "yes", "true", "1"):
        return "on"
    if word in ("off", "no", "false", "0"):
        return "off"
    raise SettingRefused("Give `on` or `off`.")


def _idle(text: str, guild: discord.Guild, _: Settings) -> str:
    seconds = _seconds(text)
    if not MIN_IDLE <= seconds <= MAX_IDLE:
        raise SettingRefused(f"The idle timeout goes from {MIN_IDLE:.0f} s to {format_duration(MAX_IDLE)}.")
    return f"{seconds:g}"


def _volume(text: str, guild: discord.Guild, _: Settings) -> str:
    try:
        return str(parse_volume(text))
    except InvalidArgument as exc:
        raise SettingRefused(exc.user_message) from None


def _search(text: str, guild: discord.Guild, settings: Settings) -> str:
    sites = allowed_search_sites(settings)
    if text.lower() not in sites:
        raise SettingRefused("The search site is one of " + ", ".join(f"`{s}`" for s in sites) + ".")
    return text.lower()


def _queue_mode(text: str, guild: discord.Guild, _: Settings) -> str:
    word = text.lower().replace("-", "").replace(" ", "")
    if word not in set(QueueMode):
        raise SettingRefused("The queue mode is one of " + ", ".join(f"`{m}` ({m.description})" for m in QueueMode) + ".")
    return word


def _cap(name: str, cap_of: Callable[[Settings], int | None]) -> Callable[[str, discord.Guild, Settings], str]:
    def parse(text: str, guild: discord.Guild, settings: Settings) -> str:
        cap = cap_of(settings)
        if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= (cap or 100_000):
            raise SettingRefused(f"{name} is a whole number from 1 to {cap or 100_000} (the bot-wide limit).")
        return str(int(text))

    return parse


def _max_length(text: str, guild: discord.Guild, settings: Settings) -> str:
    seconds = _seconds(text)
    cap = settings.max_track_duration or 24 * 3600.0
    if not 1 <= seconds <= cap:
        raise SettingRefused(f"The longest track goes from 0:01 to {format_duration(cap)} (the bot-wide limit).")
    return f"{seconds:g}"


def _prefix(text: str, guild: discord.Guild, _: Settings) -> str:
    if not 1 <= len(text) <= 5 or any(ch.isspace() or ch in "`@#<>*_~|" for ch in text):
        raise SettingRefused("A prefix is 1 to 5 characters without spaces or markdown, like `!` or `?`.")
    return text


SPECS: dict[str, SettingSpec] = {
    spec.name: spec
    for spec in (
        SettingSpec("prefix", "what commands start with", "1 to 5 characters, like `!`", _prefix),
        SettingSpec("djrole", "the role that may force playback changes", "a role", _role),
        SettingSpec("announce", "where the now-playing message goes", "`here`, `off` or a text channel", _announce),
        SettingSpec("channels", "the text channels I take commands in", "`all` or text channels", _text_channels),
        SettingSpec("voice", "the voice channel I may join", "`any` or a voice channel", _voice),
        SettingSpec("247", "stay in voice when idle or alone", "`on` or `off`", _switch),
        SettingSpec("idle", "how long I stay idle before leaving", "a time like `300` or `5:00`", _idle),
        SettingSpec("volume", "the volume a new player starts at", "0 to 200", _volume),
        SettingSpec("search", "the site words are searched on", "`youtube` or `soundcloud`", _search),
        SettingSpec("queuemode", "how the queue orders tracks", "`fifo`, `fair` or `fairtime`", _queue_mode),
        SettingSpec("autoplay", "a related track when the queue runs dry", "`on` or `off`", _switch),
        SettingSpec("maxqueue", "the most tracks in the queue", "a number", _cap("maxqueue", lambda s: s.max_queue_length)),
        SettingSpec(
            "maxpermember", "the most tracks one member may queue", "a number",
            _cap("maxpermember", lambda s: s.max_user_tracks or s.max_queue_length),
        ),
        SettingSpec("maxlength", "the longest track that may be queued", "a time like `10:00`", _max_length),
    )
}


def parse_setting(name: str, text: str, guild: discord.Guild, settings: Settings) -> tuple[SettingSpec, str | None]:
    """(spec, the text to store) for ``name value``; None means back to the default."""
    spec = SPECS.get(name.strip().lower())
    if spec is None:
        names = ", ".join(f"`{n}`" for n in SPECS)
        raise SettingRefused(f"There is no setting {code_span(name, 40)}. The settings are {names}.")
    value = text.strip()
    if not value:
        raise SettingRefused(f"Give a value for `{spec.name}`: {spec.values}, or `default`.")
    if value.lower() in RESET_WORDS:
        return spec, None
    return spec, spec.parse(value, guild, settings)


def allowed_search_sites(settings: Settings) -> list[str]:
    allowed = {str(p) for p in settings.allowed_providers}
    return [site for site in SEARCH_SITES if site in allowed]


def _seconds(text: str) -> float:
    try:
        return parse_timestamp(text)
    except InvalidArgument as exc:
        raise SettingRefused(exc.user_message) from None


def _find(text: str, items: Sequence[_Named]) -> _Named | None:
    match = _ID.fullmatch(text.strip())
    if match:
        wanted = int(match.group(1) or match.group(2))
        return next((item for item in items if item.id == wanted), None)
    name = text.strip().lstrip("#@").casefold()
    return next((item for item in items if getattr(item, "name", "").casefold() == name), None)
