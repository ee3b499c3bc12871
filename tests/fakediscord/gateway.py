"""The main gateway (v10, JSON text frames): HELLO, IDENTIFY/READY, GUILD_CREATE, dispatches, voice op 4.

Sharding as on Discord: a session that IDENTIFYs with ``shard: [i, n]`` is told about, and gets the
events of, only the guilds with ``(guild_id >> 22) % n == i``; events of no guild go to shard 0.
Sessions without ``shard`` get everything.

discord.py asks for ``compress=zlib-stream`` but only decompresses binary frames, so plain text
frames are valid replies. Each connection has one writer task so frames leave in the order the
fake produced them, as on Discord.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from tests.fakediscord import model
from tests.fakediscord.world import (
    INTENT_MESSAGE_CONTENT,
    GatewayOp,
    World,
)

if TYPE_CHECKING:
    from tests.fakediscord.voice import VoiceServer

log = logging.getLogger(__name__)

HEARTBEAT_INTERVAL_MS = 41250
INTENT_GUILDS = 1 << 0
_GUILD_ID_AS_ID = frozenset({"GUILD_CREATE", "GUILD_UPDATE", "GUILD_DELETE"})


def event_guild_id(event: str, data: dict[str, Any]) -> int | None:
    """The guild a dispatch is about (which decides the shard it goes to), or None."""
    raw = data.get("id") if event in _GUILD_ID_AS_ID else data.get("guild_id")
    return None if raw is None else int(raw)


@dataclass
class GatewayConnection:
    ws: web.WebSocketResponse
    outbox: asyncio.Queue[str | None] = field(default_factory=asyncio.Queue)

    def send(self, payload: dict[str, Any]) -> None:
        self.outbox.put_nowait(json.dumps(payload))

    async def write_forever(self) -> None:
        while (frame := await self.outbox.get()) is not None:
            if self.ws.closed:
                return
            try:
                await self.ws.send_str(frame)
            except ConnectionError:
                return


@dataclass
class GatewaySession:
    session_id: str
    intents: int
    shard: list[int] | None
    connection: GatewayConnection | None
    seq: int = 0
    identified_at: float = field(default_factory=time.perf_counter)
    dispatched: list[tuple[str, int | None]] = field(default_factory=list)  # (event, its guild id) sent

    def holds(self, guild_id: int | None) -> bool:
        """Whether this session's shard gets the guild's events (events of no guild: shard 0)."""
        if self.shard is None:
            return True
        shard_id, shard_count = self.shard
        return shard_id == (0 if guild_id is None else (guild_id >> 22) % shard_count)

    def dispatch(self, event: str, data: dict[str, Any]) -> None:
        if self.connection is None:
            return
        self.seq += 1
        self.dispatched.append((event, event_guild_id(event, data)))
        self.connection.send({"op": 0, "t": event, "s": self.seq, "d": data})


class Gateway:
    def __init__(
        self, world: World, voice: VoiceServer, *, require_token: str | None = None, voice_state_latency: float = 0.02
    ) -> None:
        self.world = world
        self.voice_state_latency = voice_state_latency
        self.voice = voice
        self.require_token = require_token
        self.url = ""  # set once the site is listening
        self.sessions: dict[str, GatewaySession] = {}
        self.connections: list[GatewayConnection] = []
        self.identify_count = 0
        self.resume_count = 0
        self.voice_states_answered: list[tuple[int, int | None]] = []  # (guild, channel) of each op 4
        world.dispatch = self.broadcast
        world.on_guild_added = self._guild_added

    # --- dispatching ----------------------------------------------------------------------------------

    def broadcast(self, event: str, data: dict[str, Any], intent: int) -> None:
        guild_id = event_guild_id(event, data)
        for session in self.sessions.values():
            if (intent and not session.intents & intent) or not session.holds(guild_id):
                continue
            session.dispatch(event, self._visible(session, event, data))

    def _visible(self, session: GatewaySession, event: str, data: dict[str, Any]) -> dict[str, Any]:
        """Blank message content as Discord does for bots without the message-content intent."""
        if event not in ("MESSAGE_CREATE", "MESSAGE_UPDATE") or session.intents & INTENT_MESSAGE_CONTENT:
            return data
        bot_id = str(self.world.bot.id)
        if data.get("author", {}).get("id") == bot_id or any(m.get("id") == bot_id for m in data.get("mentions", [])):
            return data
        return {**data, "content": "", "embeds": [], "attachments": [], "components": []}

    def _guild_added(self, guild: model.FakeGuild) -> None:
        for session in self.sessions.values():
            if session.intents & INTENT_GUILDS and session.holds(guild.id):
                session.dispatch("GUILD_CREATE", self.world.guild_create(guild.id, intents=session.intents))

    # --- connections ----------------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(autoping=True, max_msg_size=0)
        await ws.prepare(request)
        conn = GatewayConnection(ws)
        self.connections.append(conn)
        writer = asyncio.create_task(conn.write_forever())
        session: GatewaySession | None = None
        conn.send({"op": 10, "s": None, "t": None, "d": {"heartbeat_interval": HEARTBEAT_INTERVAL_MS, "_trace": ["fake"]}})
        try:
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    continue
                frame = json.loads(msg.data)
                op, d = frame.get("op"), frame.get("d")
                if op == 1:
                    conn.send({"op": 11, "s": None, "t": None, "d": None})
                    continue
                self.world.gateway_log.append(
                    GatewayOp(time.perf_counter(), op, d, shard=None if session is None else session.shard)
                )
                self.world.changed()
                if op == 2:
                    session = await self._identify(conn, d)
                elif op == 6:
                    session = self._resume(conn, d)
                elif session is None:
                    await ws.close(code=4003, message=b"Not authenticated.")
                elif op == 4:
                    self._answer_later(self._voice_state, d)
                elif op == 8:
                    self._request_members(session, d)
        finally:
            if session is not None and session.connection is conn:
                session.connection = None
            conn.outbox.put_nowait(None)
            with contextlib.suppress(asyncio.CancelledError):
                await writer
            self.connections.remove(conn)
            self.world.changed()
        return ws

    async def _identify(self, conn: GatewayConnection, d: dict[str, Any]) -> GatewaySession | None:
        token = str(d.get("token", ""))
        if self.require_token is not None and token.removeprefix("Bot ") != self.require_token:
            await conn.ws.close(code=4004, message=b"Authentication failed.")
            return None
        session = GatewaySession(
            session_id=secrets.token_hex(16), intents=int(d.get("intents", 0)), shard=d.get("shard"), connection=conn
        )
        self.sessions[session.session_id] = session
        self.identify_count += 1
        world = self.world
        guild_ids = [guild_id for guild_id in world.guilds if session.holds(guild_id)]
        ready: dict[str, Any] = {
            "v": 10,
            "user": model.client_user_payload(world.bot),
            "guilds": [{"id": str(g), "unavailable": True} for g in guild_ids],
            "session_id": session.session_id,
            "session_type": "normal",
            "resume_gateway_url": self.url,
            "application": {"id": str(world.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "geo_ordered_rtc_regions": ["fake"],
            "user_settings": {},
            "auth": {},
            "_trace": ["fake"],
        }
        if session.shard is not None:
            ready["shard"] = session.shard
        session.dispatch("READY", ready)
        for guild_id in guild_ids:
            session.dispatch("GUILD_CREATE", world.guild_create(guild_id, intents=session.intents))
        world.changed()
        return session

    def _resume(self, conn: GatewayConnection, d: dict[str, Any]) -> GatewaySession | None:
        session = self.sessions.get(str(d.get("session_id")))
        if session is None:
            conn.send({"op": 9, "s": None, "t": None, "d": False})
            return None
        session.connection = conn
        self.resume_count += 1
        session.dispatch("RESUMED", {"_trace": ["fake"]})
        self.world.changed()
        return session

    def _answer_later(self, answer: Any, d: dict[str, Any]) -> None:
        """Answer a voice state change after a short delay, as Discord does.

        Real answers take tens of milliseconds; discord.py sets its own connection state only
        after its op 4 send returns, so a reply that overtook that would test an ordering real
        Discord never produces.
        """
        asyncio.get_running_loop().call_later(self.voice_state_latency, answer, d)

    def _voice_state(self, d: dict[str, Any]) -> None:
        """Op 4 from the bot: join, move or leave, answered the way Discord answers it."""
        world = self.world
        guild_id = int(d["guild_id"])
        if guild_id not in world.guilds:
            log.warning("fake discord: op 4 for unknown guild %s", guild_id)
            return
        channel_id = None if d.get("channel_id") is None else int(d["channel_id"])
        previous = world.voice_channel_of(guild_id, world.bot.id)
        self.voice_states_answered.append((guild_id, channel_id))
        if channel_id is None:
            world.set_voice(guild_id, world.bot, None)
            self.voice.forget_guild(guild_id)
            return
        state = world.set_voice(guild_id, world.bot, channel_id)
        token = secrets.token_hex(8)
        self.voice.expect(guild_id, user_id=world.bot.id, session_id=state["session_id"], token=token)
        self.broadcast(
            "VOICE_SERVER_UPDATE", {"token": token, "guild_id": str(guild_id), "endpoint": self.voice.endpoint}, 0
        )
        if previous is not None and previous != channel_id:
            self.voice.close_guild(guild_id, 4014)

    def _request_members(self, session: GatewaySession, d: dict[str, Any]) -> None:
        guild_ids = d["guild_id"] if isinstance(d["guild_id"], list) else [d["guild_id"]]
        query = (d.get("query") or "").lower()
        user_ids = {int(u) for u in d.get("user_ids") or []}
        limit = int(d.get("limit") or 0)
        for raw_id in guild_ids:
            guild_id = int(raw_id)
            if guild_id not in self.world.guilds or not session.holds(guild_id):
                continue
            members = [
                u for u in self.world.guild_members(guild_id)
                if (not user_ids or u.id in user_ids) and u.name.lower().startswith(query)
            ]
            if limit:
                members = members[:limit]
            chunk: dict[str, Any] = {
                "guild_id": str(guild_id),
                "members": [model.member_payload(u, guild=self.world.guilds[guild_id]) for u in members],
                "chunk_index": 0,
                "chunk_count": 1,
            }
            if d.get("nonce"):
                chunk["nonce"] = d["nonce"]
            if user_ids:
                chunk["not_found"] = [str(u) for u in user_ids - {m.id for m in members}]
            session.dispatch("GUILD_MEMBERS_CHUNK", chunk)

    def request_reconnect(self) -> None:
        """Op 7 RECONNECT on every connection: Discord's polite "resume elsewhere"."""
        for conn in self.connections:
            conn.send({"op": 7, "s": None, "t": None, "d": None})

    async def close_all(self, code: int = 4000) -> None:
        """Drop every gateway connection (the bot should RESUME); for reconnect tests."""
        for conn in list(self.connections):
            await conn.ws.close(code=code)

