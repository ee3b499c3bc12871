"""Each server's settings as the bot uses them, read from the store once and kept in memory.

``GuildSettings`` is the frozen view of one server's stored values (what ``bot.setting_specs``
wrote), with the bot-wide settings filling whatever a server left at its default and capping its
limits. ``GuildSettingsBook`` holds every server's values and the block lists; a change is written
to the store first and only then takes effect, so what a member sees is what survives a restart.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from audio.extractor.config import DEFAULT_SEARCH_PROVIDER
from audio.queue_order import QueueMode
from bot.admission import Limits
from bot.setting_specs import SEARCH_SITES, SPECS, SettingSpec
from bot.settings import Settings
from bot.store import Store
from bot.store.settings_sql import EVERYWHERE

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class GuildSettings:
    prefix: str
    dj_role_id: int | None  # None: the bot-wide DJ role name applies
    announce: str  # "here", "off" or a channel id
    text_channel_ids: frozenset[int]  # empty: every channel
    voice_channel_id: int | None
    stay_in_voice: bool
    idle_timeout: float
    volume: int
    search_provider: str  # the extractor's prefix, e.g. "ytsearch"
    queue_mode: QueueMode
    autoplay: bool  # a related track when the queue runs dry (bot.autoplay)
    limits: Limits

    def announce_channel_id(self, asked_in: int | None) -> int | None:
        """Where the now-playing message goes: the announce channel, where music was asked, or nowhere."""
        if self.announce == "off":
            return None
        if self.announce == "here":
            return asked_in
        return int(self.announce)


def _cap(value: str | None, cap: float | None) -> float | None:
    if value is None:
        return cap
    number = float(value)
    return number if cap is None else min(number, cap)


def build(stored: dict[str, str], settings: Settings) -> GuildSettings:
    """The settings of one server from its stored text; a value that no longer reads is its default."""

    def get(name: str) -> str | None:
        return stored.get(name)

    try:
        channels = get("channels")
        limits = Limits(
            max_queue_length=int(_cap(get("maxqueue"), settings.max_queue_length) or 0) or None,
            max_user_tracks=int(_cap(get("maxpermember"), settings.max_user_tracks) or 0) or None,
            max_track_duration=_cap(get("maxlength"), settings.max_track_duration),
        )
        return GuildSettings(
            prefix=get("prefix") or settings.command_prefix,
            dj_role_id=int(role) if (role := get("djrole")) else None,
            announce=get("announce") or "here",
            text_channel_ids=frozenset(int(c) for c in channels.split()) if channels and channels != "all" else frozenset(),
            voice_channel_id=int(voice) if (voice := get("voice")) and voice != "any" else None,
            stay_in_voice=get("247") == "on",
            idle_timeout=float(get("idle") or settings.idle_timeout),
            volume=int(get("volume") or settings.default_volume),
            search_provider=SEARCH_SITES.get(get("search") or "", DEFAULT_SEARCH_PROVIDER),
            queue_mode=QueueMode(get("queuemode") or QueueMode.FIFO),
            autoplay=get("autoplay") == "on",
            limits=limits,
        )
    except ValueError:
        log.warning("a server's stored settings do not read; it uses the defaults")
        return build({}, settings)


class GuildSettingsBook:
    """Every server's settings and block lists, in memory; the store is written before a change shows."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._stored: dict[int, dict[str, str]] = {}
        self._built: dict[int, GuildSettings] = {}
        # guild id (0: everywhere) -> member ids; the owner's set stays one object (BrentBot.blocked_users)
        self.blocked: dict[int, set[int]] = {EVERYWHERE: set()}

    @property
    def everywhere(self) -> set[int]:
        return self.blocked[EVERYWHERE]

    async def load(self, store: Store) -> None:
        self._stored = await store.all_guild_settings()
        self._built = {}
        loaded = await store.blocked_users()
        self.everywhere.clear()
        self.everywhere.update(loaded.pop(EVERYWHERE, set()))
        self.blocked = {EVERYWHERE: self.everywhere, **loaded}

    def get(self, guild_id: int | None) -> GuildSettings:
        if guild_id is None:
            return build({}, self._settings)
        built = self._built.get(guild_id)
        if built is None:
            built = self._built[guild_id] = build(self._stored.get(guild_id, {}), self._settings)
        return built

    def stored(self, guild_id: int) -> dict[str, str]:
        return dict(self._stored.get(guild_id, {}))

    async def change(self, store: Store | None, guild_id: int, spec: SettingSpec, value: str | None) -> GuildSettings:
        if store is not None:
            await store.set_guild_setting(guild_id, spec.name, value)
        values = self._stored.setdefault(guild_id, {})
        if value is None:
            values.pop(spec.name, None)
        else:
            values[spec.name] = value
        self._built.pop(guild_id, None)
        return self.get(guild_id)

    def is_blocked(self, user_id: int, guild_id: int | None) -> bool:
        return user_id in self.blocked.get(EVERYWHERE, set()) or (
            guild_id is not None and user_id in self.blocked.get(guild_id, set())
        )

    async def set_blocked(self, store: Store | None, guild_id: int, user_id: int, blocked: bool) -> bool:
        """Returns whether anything changed."""
        members = self.blocked.setdefault(guild_id, set())
        if (user_id in members) == blocked:
            return False
        if store is not None:
            await store.set_blocked(guild_id, user_id, blocked)
        if blocked:
            members.add(user_id)
        else:
            members.discard(user_id)
        return True


__all__ = ["SPECS", "GuildSettings", "GuildSettingsBook", "build"]
