"""The fake's world: users, guilds, channels, and the exact JSON shapes discord.py 2.7.1 parses.

discord.py indexes many payload keys directly (``Member`` needs ``flags``, channels need
``position``, users need ``avatar`` and ``discriminator``), so every builder here emits the full
shape Discord sends, not a minimal subset. Keeping the shapes in one module means a payload bug is
fixed once for REST answers and gateway dispatches alike.
"""

from __future__ import annotations

import datetime
import itertools
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Literal

import discord

log = logging.getLogger(__name__)

DISCORD_EPOCH_MS = 1420070400000
_counter = itertools.count(1)
_counter_lock = threading.Lock()

# What @everyone may do in a fake guild: enough for a music bot (read, write, embed, react,
# connect, speak) without administrator, so missing-permission bugs stay visible.
DEFAULT_EVERYONE_PERMISSIONS = (
    discord.Permissions.text() | discord.Permissions.voice() | discord.Permissions(view_channel=True)
).value


def snowflake() -> int:
    """A unique, time-ordered id, so later messages have larger ids as on Discord."""
    with _counter_lock:
        increment = next(_counter)
    ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
    return (ms << 22) | (increment & 0x3FFFFF)


def iso_now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat()


@dataclass(frozen=True, slots=True)
class FakeUser:
    id: int
    name: str
    bot: bool = False

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"


@dataclass(frozen=True, slots=True)
class FakeChannel:
    id: int
    guild_id: int
    name: str
    kind: Literal["text", "voice"]
    position: int = 0


@dataclass(frozen=True, slots=True)
class FakeRole:
    id: int
    name: str
    permissions: int = 0


@dataclass(slots=True)
class FakeGuild:
    """A guild as the tests set it up; ``members`` excludes the bot, which is always a member."""

    id: int
    name: str
    owner_id: int
    channels: list[FakeChannel] = field(default_factory=list)
    members: list[FakeUser] = field(default_factory=list)
    everyone_permissions: int = DEFAULT_EVERYONE_PERMISSIONS
    roles: list[FakeRole] = field(default_factory=list)  # besides @everyone
    member_roles: dict[int, tuple[int, ...]] = field(default_factory=dict)  # user id -> role ids

    def role(self, name: str) -> FakeRole:
        return next(r for r in self.roles if r.name == name)

    @property
    def text_channel(self) -> FakeChannel:
        """The first text channel: where tests type commands by default."""
        return next(c for c in self.channels if c.kind == "text")

    @property
    def voice_channel(self) -> FakeChannel:
        """The first voice channel."""
        return next(c for c in self.channels if c.kind == "voice")

    def channel(self, name: str) -> FakeChannel:
        return next(c for c in self.channels if c.name == name)

    def member(self, name: str) -> FakeUser:
        return next(m for m in self.members if m.name == name)


# --- payload builders -------------------------------------------------------------------------


def user_payload(user: FakeUser) -> dict[str, Any]:
    return {
        "id": str(user.id),
        "username": user.name,
        "discriminator": "0",
        "global_name": user.name,
        "avatar": None,
        "bot": user.bot,
        "public_flags": 0,
    }


def client_user_payload(user: FakeUser) -> dict[str, Any]:
    """GET /users/@me and READY.user: the bot's own user, with the account fields."""
    return {**user_payload(user), "verified": True, "mfa_enabled": False, "flags": 0, "email": None, "locale": "en-US"}


def member_payload(user: FakeUser, *, with_user: bool = True, guild: FakeGuild | None = None) -> dict[str, Any]:
    roles = guild.member_roles.get(user.id, ()) if guild is not None else ()
    data: dict[str, Any] = {
        "roles": [str(r) for r in roles],
        "nick": None,
        "avatar": None,
        "joined_at": "2026-01-01T00:00:00+00:00",
        "premium_since": None,
        "deaf": False,
        "mute": False,
        "flags": 0,
        "pending": False,
        "communication_disabled_until": None,
    }
    if with_user:
        data["user"] = user_payload(user)
    return data


def channel_payload(channel: FakeChannel) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": str(channel.id),
        "guild_id": str(channel.guild_id),
        "name": channel.name,
        "position": channel.position,
        "permission_overwrites": [],
        "parent_id": None,
        "nsfw": False,
        "flags": 0,
        "last_message_id": None,
        "rate_limit_per_user": 0,
    }
    if channel.kind == "text":
        return {**base, "type": 0, "topic": None}
    return {**base, "type": 2, "bitrate": 64000, "user_limit": 0, "rtc_region": None, "video_quality_mode": 1}


def role_payloads(guild: FakeGuild) -> list[dict[str, Any]]:
    everyone = FakeRole(guild.id, "@everyone", guild.everyone_permissions)  # @everyone shares the guild's id
    return [
        {
            "id": str(role.id),
            "name": role.name,
            "permissions": str(role.permissions),
            "position": position,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "managed": False,
            "mentionable": False,
            "icon": None,
            "unicode_emoji": None,
            "flags": 0,
        }
        for position, role in enumerate([everyone, *guild.roles])
    ]


def voice_state_payload(
    guild: FakeGuild, user: FakeUser, channel_id: int | None, session_id: str, *, with_member: bool = True
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "guild_id": str(guild.id),
        "channel_id": None if channel_id is None else str(channel_id),
        "user_id": str(user.id),
        "session_id": session_id,
        "deaf": False,
        "mute": False,
        "self_deaf": False,
        "self_mute": False,
        "self_video": False,
        "self_stream": False,
        "suppress": False,
        "request_to_speak_timestamp": None,
    }
    if with_member:
        data["member"] = member_payload(user, guild=guild)
    return data


def guild_create_payload(
    guild: FakeGuild, bot: FakeUser, voice_states: list[dict[str, Any]], *, all_members: bool = True
) -> dict[str, Any]:
    """``all_members=False`` lists only the bot and members in voice, as Discord does for sessions
    without the presences intent (so discord.py has to chunk with op 8 to learn the rest)."""
    everyone = [bot, *guild.members]
    in_voice = {int(v["user_id"]) for v in voice_states}
    listed = everyone if all_members else [u for u in everyone if u is bot or u.id in in_voice]
    return {
        "id": str(guild.id),
        "name": guild.name,
        "icon": None,
        "splash": None,
        "discovery_splash": None,
        "banner": None,
        "description": None,
        "owner_id": str(guild.owner_id),
        "afk_channel_id": None,
        "afk_timeout": 300,
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "mfa_level": 0,
        "nsfw_level": 0,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "preferred_locale": "en-US",
        "system_channel_id": None,
        "system_channel_flags": 0,
        "rules_channel_id": None,
        "public_updates_channel_id": None,
        "safety_alerts_channel_id": None,
        "features": [],
        "emojis": [],
        "stickers": [],
        "roles": role_payloads(guild),
        "joined_at": "2026-01-01T00:00:00+00:00",
        "large": False,
        "unavailable": False,
        "member_count": len(everyone),
        "members": [member_payload(u, guild=guild) for u in listed],
        "channels": [channel_payload(c) for c in guild.channels],
        "threads": [],
        "presences": [],
        "voice_states": voice_states,
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
        "premium_progress_bar_enabled": False,
    }


def message_payload(
    *,
    message_id: int,
    guild: FakeGuild,
    channel: FakeChannel,
    author: FakeUser,
    content: str,
    embeds: list[dict[str, Any]] | None = None,
    components: list[dict[str, Any]] | None = None,
    attachments: list[dict[str, Any]] | None = None,
    message_reference: dict[str, Any] | None = None,
    referenced_message: dict[str, Any] | None = None,
    nonce: str | int | None = None,
    mentions: list[FakeUser] | None = None,
    flags: int = 0,
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(message_id),
        "channel_id": str(channel.id),
        "guild_id": str(channel.guild_id),
        "author": user_payload(author),
        "member": member_payload(author, with_user=False, guild=guild),
        "content": content,
        "timestamp": iso_now(),
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [{**user_payload(u), "member": member_payload(u, with_user=False, guild=guild)} for u in mentions or []],
        "mention_roles": [],
        "attachments": attachments or [],
        "embeds": embeds or [],
        "reactions": [],
        "pinned": False,
        "type": 19 if message_reference else 0,
        "flags": flags,
        "components": components or [],
    }
    if nonce is not None:
        data["nonce"] = nonce
    if message_reference:
        data["message_reference"] = message_reference
        data["referenced_message"] = referenced_message
    return data


def message_text(message: dict[str, Any]) -> str:
    """Everything a user would read in a message: content plus embed titles, descriptions, fields.

    Tests match on this so they pass whether the bot answers in plain text or in an embed.
    """
    parts = [message.get("content") or ""]
    for embed in message.get("embeds") or []:
        parts.append(embed.get("title") or "")
        parts.append(embed.get("description") or "")
        for f in embed.get("fields") or []:
            parts.append(f"{f.get('name', '')} {f.get('value', '')}")
        if embed.get("footer"):
            parts.append(embed["footer"].get("text") or "")
        if embed.get("author"):
            parts.append(embed["author"].get("name") or "")
    return "\n".join(p for p in parts if p)
