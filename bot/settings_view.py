"""How a server's settings read in the `settings` reply: each name, its value, and whether it is the default."""

from __future__ import annotations

import discord

from bot.guild_settings import GuildSettings
from bot.setting_specs import SPECS
from bot.text import format_duration, safe_text


def _channel(guild: discord.Guild, channel_id: int) -> str:
    channel = guild.get_channel(channel_id)
    return f"#{safe_text(channel.name, 80)}" if channel is not None else "a deleted channel"


def shown_value(name: str, current: GuildSettings, guild: discord.Guild, bot_dj_role: str | None) -> str:
    """The value a server has now (its own or the bot-wide default), as a member would type it."""
    limits = current.limits
    if name == "prefix":
        return f"`{current.prefix}`"
    if name == "djrole":
        role = guild.get_role(current.dj_role_id) if current.dj_role_id else None
        name_shown = role.name if role is not None else bot_dj_role
        return f"@{safe_text(name_shown, 80)}" if name_shown else "none (Manage Channels only)"
    if name == "announce":
        return current.announce if current.announce in ("here", "off") else _channel(guild, int(current.announce))
    if name == "channels":
        return " ".join(_channel(guild, c) for c in sorted(current.text_channel_ids)) or "all"
    if name == "voice":
        return _channel(guild, current.voice_channel_id) if current.voice_channel_id else "any"
    if name == "247":
        return "on" if current.stay_in_voice else "off"
    if name == "idle":
        return format_duration(current.idle_timeout)
    if name == "volume":
        return f"{current.volume}%"
    if name == "search":
        return {"ytsearch": "youtube", "scsearch": "soundcloud"}.get(current.search_provider, current.search_provider)
    if name == "queuemode":
        return f"{current.queue_mode} ({current.queue_mode.description})"
    if name == "autoplay":
        return "on" if current.autoplay else "off"
    if name == "maxqueue":
        return str(limits.max_queue_length or "no limit")
    if name == "maxpermember":
        return str(limits.max_user_tracks or "no limit")
    if name == "maxlength":
        return format_duration(limits.max_track_duration) if limits.max_track_duration else "no limit"
    raise KeyError(name)


def settings_lines(
    current: GuildSettings, stored: dict[str, str], guild: discord.Guild, bot_dj_role: str | None
) -> list[str]:
    lines = []
    for name, spec in SPECS.items():
        mark = "" if name in stored else " (default)"
        lines.append(f"`{name}` {shown_value(name, current, guild, bot_dj_role)}{mark}: {spec.meaning}")
    return lines
