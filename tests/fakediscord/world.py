"""The fake Discord's state: guilds, members, voice states, messages, and logs of what the bot did.

Everything here is mutated only on the fake's own event loop. Mutations that Discord would
announce call ``dispatch`` (wired to the main gateway) and poke the notifier so waiting tests
re-check their conditions.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.fakediscord import model
from tests.fakediscord.model import FakeChannel, FakeGuild, FakeRole, FakeUser
from tests.fakediscord.recorder import VoiceRecorder
from tests.fakediscord.waiting import Notifier

log = logging.getLogger(__name__)

# Gateway intent bits that decide which events a session receives.
INTENT_GUILD_MEMBERS = 1 << 1
INTENT_GUILD_VOICE_STATES = 1 << 7
INTENT_GUILD_PRESENCES = 1 << 8
INTENT_GUILD_MESSAGES = 1 << 9
INTENT_GUILD_MESSAGE_REACTIONS = 1 << 10
INTENT_MESSAGE_CONTENT = 1 << 15


@dataclass(frozen=True, slots=True)
class RestCall:
    at: float  # perf_counter
    method: str
    path: str  # without the /api/v10 prefix
    json: Any  # parsed body (payload_json for multipart), or None
    query: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class GatewayOp:
    """A frame the bot sent on the main gateway (op 1 heartbeats excluded)."""

    at: float
    op: int
    d: Any
    shard: list[int] | None = None  # [shard id, shard count] of the session it came on, if it had one


@dataclass(frozen=True, slots=True)
class InjectedMessage:
    id: int
    guild_id: int
    channel_id: int
    author_id: int
    content: str
    sent_at: float  # perf_counter just before MESSAGE_CREATE was written to the bot's socket


@dataclass(slots=True)
class VoiceMembership:
    channel_id: int
    session_id: str


class World:
    def __init__(self, notifier: Notifier, *, bot_name: str = "Brent") -> None:
        self.notifier = notifier
        self.application_id = model.snowflake()
        self.bot = FakeUser(id=self.application_id, name=bot_name, bot=True)
        self.owner = FakeUser(id=model.snowflake(), name="owner")
        self.guilds: dict[int, FakeGuild] = {}
        self.users: dict[int, FakeUser] = {self.bot.id: self.bot, self.owner.id: self.owner}
        self.channels: dict[int, FakeChannel] = {}
        self.voice: dict[int, dict[int, VoiceMembership]] = {}
        self.messages: dict[int, dict[str, Any]] = {}
        self.message_times: dict[int, float] = {}  # message id -> perf_counter when it was created
        self.deleted_messages: list[int] = []
        self.rest_log: list[RestCall] = []
        self.gateway_log: list[GatewayOp] = []
        self.recorders: dict[int, VoiceRecorder] = {}
        self.commands: dict[str, list[dict[str, Any]]] = {}  # application commands by guild id or "global"
        self.dispatch: Callable[[str, dict[str, Any], int], None] = lambda event, data, intent: None
        self.on_guild_added: Callable[[FakeGuild], None] = lambda guild: None
        self.on_voice_change: Callable[[int, int, int | None], None] = lambda guild_id, user_id, channel_id: None

    def changed(self) -> None:
        self.notifier.notify()

    # --- setup ------------------------------------------------------------------------------------

    def add_guild(
        self,
        name: str,
        *,
        text_channels: tuple[str, ...] = ("general",),
        voice_channels: tuple[str, ...] = ("Music",),
        members: tuple[str, ...] = ("alice",),
        everyone_permissions: int = model.DEFAULT_EVERYONE_PERMISSIONS,
        roles: dict[str, int] | None = None,
        member_roles: dict[str, tuple[str, ...]] | None = None,
        owner: str | None = None,
        guild_id: int | None = None,
    ) -> FakeGuild:
        """``roles`` maps role name -> permission bits; ``member_roles`` gives members those roles;
        ``owner`` names the member who owns the guild (all permissions), else a user outside it;
        ``guild_id`` picks the id (and so the shard), else a new snowflake."""
        guild_id = model.snowflake() if guild_id is None else guild_id
        guild = FakeGuild(id=guild_id, name=name, owner_id=self.owner.id, everyone_permissions=everyone_permissions)
        guild.roles = [FakeRole(model.snowflake(), role_name, perms) for role_name, perms in (roles or {}).items()]
        for position, channel_name in enumerate(text_channels):
            guild.channels.append(FakeChannel(model.snowflake(), guild_id, channel_name, "text", position))
        for position, channel_name in enumerate(voice_channels):
            guild.channels.append(FakeChannel(model.snowflake(), guild_id, channel_name, "voice", position))
        for member_name in members:
            user = FakeUser(id=model.snowflake(), name=member_name)
            guild.members.append(user)
            self.users[user.id] = user
        for member_name, role_names in (member_roles or {}).items():
            guild.member_roles[guild.member(member_name).id] = tuple(guild.role(r).id for r in role_names)
        if owner is not None:
            guild.owner_id = guild.member(owner).id
        for channel in guild.channels:
            self.channels[channel.id] = channel
        self.guilds[guild_id] = guild
        self.voice[guild_id] = {}
        self.recorder(guild_id)
        self.on_guild_added(guild)
        self.changed()
        return guild

    def recorder(self, guild_id: int) -> VoiceRecorder:
        if guild_id not in self.recorders:
            self.recorders[guild_id] = VoiceRecorder(guild_id, self.notifier)
        return self.recorders[guild_id]

    # --- payloads -----------------------------------------------------------------------------------

    def voice_state_payloads(self, guild_id: int) -> list[dict[str, Any]]:
        return [
            model.voice_state_payload(self.guilds[guild_id], self.users[user_id], m.channel_id, m.session_id, with_member=False)
            for user_id, m in self.voice[guild_id].items()
        ]

    def guild_create(self, guild_id: int, *, intents: int = INTENT_GUILD_PRESENCES) -> dict[str, Any]:
        return model.guild_create_payload(
            self.guilds[guild_id], self.bot, self.voice_state_payloads(guild_id),
            all_members=bool(intents & INTENT_GUILD_PRESENCES),
        )

    def guild_members(self, guild_id: int) -> list[FakeUser]:
        return [self.bot, *self.guilds[guild_id].members]

    # --- voice states -----------------------------------------------------------------------------

    def voice_channel_of(self, guild_id: int, user_id: int) -> int | None:
        membership = self.voice.get(guild_id, {}).get(user_id)
        return None if membership is None else membership.channel_id

    def set_voice(self, guild_id: int, user: FakeUser, channel_id: int | None) -> dict[str, Any]:
        """Move ``user`` (None: out of voice) and announce it; returns the VOICE_STATE_UPDATE data."""
        states = self.voice[guild_id]
        if channel_id is None:
            previous = states.pop(user.id, None)
            session_id = previous.session_id if previous else secrets.token_hex(16)
        else:
            channel = self.channels.get(channel_id)
            if channel is None or channel.kind != "voice" or channel.guild_id != guild_id:
                raise ValueError(f"{channel_id} is not a voice channel of guild {guild_id}")
            previous = states.get(user.id)
            session_id = previous.session_id if previous else secrets.token_hex(16)
            states[user.id] = VoiceMembership(channel_id, session_id)
        data = model.voice_state_payload(self.guilds[guild_id], user, channel_id, session_id)
        self.dispatch("VOICE_STATE_UPDATE", data, INTENT_GUILD_VOICE_STATES)
        self.on_voice_change(guild_id, user.id, channel_id)
        self.changed()
        return data

    # --- messages ---------------------------------------------------------------------------------

    def create_message(self, channel_id: int, author: FakeUser, content: str, **extra: Any) -> dict[str, Any]:
        channel = self.channels[channel_id]
        message_id = model.snowflake()
        reference = extra.pop("message_reference", None)
        referenced = None
        if reference and reference.get("message_id"):
            referenced = self.messages.get(int(reference["message_id"]))
            reference = {"channel_id": str(channel_id), "guild_id": str(channel.guild_id), **reference}
        mentions = extra.pop("mentions", None)
        data = model.message_payload(
            message_id=message_id, guild=self.guilds[channel.guild_id], channel=channel, author=author, content=content,
            message_reference=reference, referenced_message=referenced, mentions=mentions, **extra,
        )
        self.messages[message_id] = data
        self.message_times[message_id] = time.perf_counter()
        self.dispatch("MESSAGE_CREATE", data, INTENT_GUILD_MESSAGES)
        self.changed()
        return data

    def bot_messages(self, channel_id: int | None = None, *, after_id: int = 0) -> list[dict[str, Any]]:
        return [
            m for mid, m in self.messages.items()
            if int(m["author"]["id"]) == self.bot.id and mid > after_id
            and (channel_id is None or int(m["channel_id"]) == channel_id)
        ]

    def now(self) -> float:
        return time.perf_counter()
