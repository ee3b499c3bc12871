"""The voice side of the fake: voice gateway v8 over TLS, UDP IP discovery, and the RTP listener.

The bot reaches this after VOICE_SERVER_UPDATE. It identifies with the token and session the main
gateway handed out, discovers its address over UDP, selects ``aead_xchacha20_poly1305_rtpsize`` and
then streams RTP. Each packet is decrypted exactly as Discord would (12-byte header as AAD, nonce =
trailing 4-byte counter + 20 zero bytes), decoded with libopus, and recorded for its guild.
With ``dave=True`` the session negotiates DAVE (protocol version 1) and a member of the call
decrypts the end-to-end layer first (:mod:`tests.fakediscord.dave`).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import secrets
import struct
import time
from dataclasses import dataclass, field
from typing import Any

import discord.opus
import nacl.bindings
import nacl.exceptions
from aiohttp import WSMsgType, web

from tests.fakediscord.dave import DAVE_VERSION, DaveCall, DaveError
from tests.fakediscord.recorder import SpeakingEvent, VoicePacket
from tests.fakediscord.udp_listener import TimestampedUdp
from tests.fakediscord.world import World

log = logging.getLogger(__name__)

MODE = "aead_xchacha20_poly1305_rtpsize"
# Discord offers AES-GCM first; discord.py must skip it because it only implements xchacha.
OFFERED_MODES = ["aead_aes256_gcm_rtpsize", MODE]
OPUS_SILENCE = b"\xf8\xff\xfe"
VOICE_HEARTBEAT_MS = 13750


@dataclass(frozen=True, slots=True)
class ExpectedVoice:
    user_id: int
    session_id: str
    token: str


@dataclass
class VoiceSession:
    guild_id: int
    user_id: int
    session_id: str
    token: str
    ssrc: int
    ws: web.WebSocketResponse
    secret_key: bytes | None = None
    mode: str | None = None
    client_address: tuple[str, int] | None = None
    heartbeats: list[dict[str, Any]] = field(default_factory=list)
    seq: int = 0
    decoder: discord.opus.Decoder | None = None
    closed: bool = False
    max_dave_version: int = 0
    dave: DaveCall | None = None

    def send(self, op: int, d: Any, *, sequenced: bool = True) -> asyncio.Future[None]:
        frame: dict[str, Any] = {"op": op, "d": d}
        if sequenced:
            self.seq += 1
            frame["seq"] = self.seq
        return asyncio.ensure_future(self.ws.send_str(json.dumps(frame)))

    def send_dave(self, op: int, d: bytes | dict[str, Any]) -> None:
        """A DAVE message: JSON as usual, or binary as ``[u16 seq][u8 op][payload]``."""
        if isinstance(d, dict):
            self.send(op, d)
            return
        self.seq += 1
        asyncio.ensure_future(self.ws.send_bytes(struct.pack(">HB", self.seq & 0xFFFF, op) + d))


UDP_RECEIVE_BUFFER = 4 * 2**20


class VoiceServer:
    def __init__(self, world: World, *, decode_audio: bool = True, dave: bool = False) -> None:
        self.world = world
        self.decode_audio = decode_audio
        self.dave = dave
        self.dave_broken: set[int] = set()  # guilds whose bot gets damaged commits/welcomes
        self.endpoint = ""  # "127.0.0.1:<tls port>", set once listening
        self.udp_port = 0
        self._expected: dict[int, ExpectedVoice] = {}
        self.sessions: list[VoiceSession] = []
        self._by_ssrc: dict[int, VoiceSession] = {}
        self._ssrcs = itertools.count(1000)
        self.stray_packets: list[tuple[float, tuple[str, int], int]] = []
        self._udp: TimestampedUdp | None = None
        self._closing: set[asyncio.Future[bool]] = set()

    async def start_udp(self) -> None:
        # At 100 guilds the bot sends 5000 packets a second; the default buffer (~200 kB) overflows
        # whenever this loop is busy for a few ms, and a lost IP-discovery packet is a join that
        # hangs until its timeout (discord.py sends it once).
        self._udp = TimestampedUdp(self.on_datagram, receive_buffer=UDP_RECEIVE_BUFFER)
        self.udp_port = self._udp.port

    def close_udp(self) -> None:
        if self._udp is not None:
            self._udp.close()

    # --- called by the main gateway ----------------------------------------------------------------

    def expect(self, guild_id: int, *, user_id: int, session_id: str, token: str) -> None:
        self._expected[guild_id] = ExpectedVoice(user_id, session_id, token)

    def forget_guild(self, guild_id: int) -> None:
        self._expected.pop(guild_id, None)

    def close_guild(self, guild_id: int, code: int) -> None:
        for session in self.sessions:
            if session.guild_id == guild_id and not session.closed:
                session.closed = True
                task = asyncio.ensure_future(session.ws.close(code=code))
                self._closing.add(task)
                task.add_done_callback(self._closing.discard)
        self.world.changed()

    def active_sessions(self, guild_id: int) -> list[VoiceSession]:
        return [s for s in self.sessions if s.guild_id == guild_id and not s.closed]

    # --- voice websocket ---------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(autoping=True, max_msg_size=0)
        await ws.prepare(request)
        if request.query.get("v") != "8":
            log.warning("fake discord: voice gateway opened with v=%s, expected 8", request.query.get("v"))
        session: VoiceSession | None = None
        await ws.send_str(json.dumps({"op": 8, "d": {"v": 8, "heartbeat_interval": VOICE_HEARTBEAT_MS}}))
        try:
            async for msg in ws:
                if msg.type is WSMsgType.BINARY:
                    if session is not None and session.dave is not None and msg.data:
                        session.dave.on_binary(msg.data[0], bytes(msg.data[1:]))
                    continue
                if msg.type is not WSMsgType.TEXT:
                    continue
                frame = json.loads(msg.data)
                op, d = frame.get("op"), frame.get("d")
                if op == 3:
                    if session is not None:
                        session.heartbeats.append(d)
                    await ws.send_str(json.dumps({"op": 6, "d": {"t": (d or {}).get("t")}}))
                elif op == 0:
                    session = await self._identify(ws, d)
                elif op == 7:
                    session = await self._resume(ws, d)
                elif session is None:
                    await ws.close(code=4003, message=b"Not authenticated.")
                elif op == 1:
                    await self._select_protocol(session, d)
                elif op == 5:
                    self.world.recorder(session.guild_id).add_speaking(
                        SpeakingEvent(time.perf_counter(), int(d.get("speaking", 0)), int(d.get("ssrc", 0)))
                    )
                elif session.dave is not None and isinstance(op, int) and op >= 21:
                    session.dave.on_json(op, d or {})
        finally:
            if session is not None:
                session.closed = True
                if session.dave is not None and session.ws is ws:
                    session.dave.close()
            self.world.changed()
        return ws

    async def _identify(self, ws: web.WebSocketResponse, d: dict[str, Any]) -> VoiceSession | None:
        guild_id = int(d["server_id"])
        expected = self._expected.get(guild_id)
        if (
            expected is None
            or int(d["user_id"]) != expected.user_id
            or d["session_id"] != expected.session_id
            or d["token"] != expected.token
        ):
            log.warning("fake discord: voice IDENTIFY did not match the VOICE_SERVER_UPDATE handed out: %s", d)
            await ws.close(code=4004, message=b"Authentication failed.")
            return None
        session = VoiceSession(guild_id, expected.user_id, expected.session_id, expected.token, next(self._ssrcs), ws)
        session.max_dave_version = int(d.get("max_dave_protocol_version") or 0)
        if self.dave and session.max_dave_version < DAVE_VERSION:
            await ws.close(code=4017, message=b"E2EE/DAVE protocol required.")
            return None
        self.sessions.append(session)
        self._by_ssrc[session.ssrc] = session
        await session.send(2, {
            "ssrc": session.ssrc, "ip": "127.0.0.1", "port": self.udp_port,
            "modes": OFFERED_MODES, "heartbeat_interval": VOICE_HEARTBEAT_MS, "experiments": [],
        })
        self.world.changed()
        return session

    async def _resume(self, ws: web.WebSocketResponse, d: dict[str, Any]) -> VoiceSession | None:
        guild_id = int(d["server_id"])
        found = next(
            (s for s in reversed(self.sessions)
             if s.guild_id == guild_id and s.session_id == d["session_id"] and s.token == d["token"]),
            None,
        )
        if found is None:
            await ws.close(code=4006, message=b"Session no longer valid.")
            return None
        found.ws = ws
        found.closed = False
        if found.dave is not None:
            found.dave.resume()
        await found.send(9, None)
        return found

    async def _select_protocol(self, session: VoiceSession, d: dict[str, Any]) -> None:
        data = d.get("data") or {}
        mode = data.get("mode")
        if mode != MODE:
            await session.ws.close(code=4016, message=b"Unknown encryption mode.")
            return
        session.mode = mode
        session.client_address = (str(data.get("address")), int(data.get("port", 0)))
        session.secret_key = secrets.token_bytes(32)
        await session.send(4, {
            "audio_codec": "opus", "video_codec": None, "media_session_id": secrets.token_hex(16),
            "mode": mode, "secret_key": list(session.secret_key),
            "dave_protocol_version": DAVE_VERSION if self.dave else 0,
        })
        if self.dave:
            self._start_dave(session)
        self.world.changed()

    def _start_dave(self, session: VoiceSession) -> None:
        channel_id = self.world.voice_channel_of(session.guild_id, session.user_id)
        if channel_id is None:
            return
        call = DaveCall(bot_id=session.user_id, channel_id=channel_id, send=session.send_dave, on_change=self.world.changed)
        session.dave = call
        call.corrupt_for_bot = session.guild_id in self.dave_broken
        for user_id, membership in self.world.voice.get(session.guild_id, {}).items():
            if user_id != session.user_id and membership.channel_id == channel_id:
                call.add_ear(user_id)  # they were in the call before the bot
        call.start()

    def on_voice_change(self, guild_id: int, user_id: int, channel_id: int | None) -> None:
        """A member moved: an ear joins or leaves each DAVE call of that guild."""
        for session in self.active_sessions(guild_id):
            if session.dave is None or user_id == session.user_id:
                continue
            if channel_id == session.dave.channel_id:
                session.dave.add_ear(user_id)
            else:
                session.dave.remove(user_id)

    # --- UDP ------------------------------------------------------------------------------------------

    def on_datagram(self, data: bytes, addr: tuple[str, int], arrival: float) -> None:
        if len(data) == 74 and data[0:2] == b"\x00\x01":
            self._answer_ip_discovery(data, addr)
            return
        if len(data) < 12 or data[0] >> 6 != 2:
            return
        ssrc = struct.unpack_from(">I", data, 8)[0]
        session = self._by_ssrc.get(ssrc)
        if session is None:
            self.stray_packets.append((arrival, addr, ssrc))
            return
        recorder = self.world.recorder(session.guild_id)
        if session.secret_key is None:
            recorder.add_error(f"RTP from ssrc {ssrc} before SESSION_DESCRIPTION")
            return
        sequence, timestamp = struct.unpack_from(">HI", data, 2)
        header_len = 12 + 4 * (data[0] & 0x0F) + (4 if data[0] & 0x10 else 0)
        header, body = data[:header_len], data[header_len:]
        try:
            opus = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(
                body[:-4], header, body[-4:] + bytes(20), session.secret_key
            )
        except nacl.exceptions.CryptoError:
            recorder.add_error(f"packet seq {sequence} failed to decrypt")
            return
        e2ee = False
        if session.dave is not None:
            try:
                opus, e2ee = session.dave.hear(opus)
            except DaveError as exc:
                recorder.add_error(f"packet seq {sequence}: {exc}")
                return
        if opus == OPUS_SILENCE:
            recorder.add_packet(VoicePacket(arrival, sequence, timestamp, ssrc, True, b""))
            return
        if session.decoder is None:
            session.decoder = discord.opus.Decoder()
        try:
            if self.decode_audio:
                pcm = session.decoder.decode(opus, fec=False)
                samples = len(pcm) // 4
            else:
                pcm = b""
                samples = discord.opus.Decoder.packet_get_nb_frames(opus) * discord.opus.Decoder.packet_get_samples_per_frame(opus)
        except discord.opus.OpusError as exc:
            recorder.add_error(f"packet seq {sequence} failed to decode: {exc}")
            return
        recorder.add_packet(VoicePacket(arrival, sequence, timestamp, ssrc, False, pcm, samples, e2ee))

    def poke(self, address: tuple[str, int]) -> None:
        """Send one meaningless datagram to a client's UDP address (see FakeDiscord.poke_old_voice_sockets)."""
        assert self._udp is not None
        self._udp.sendto(b"\x00" * 8, address)

    def _answer_ip_discovery(self, data: bytes, addr: tuple[str, int]) -> None:
        ssrc = struct.unpack_from(">I", data, 4)[0]
        reply = struct.pack(">HHI", 2, 70, ssrc) + addr[0].encode().ljust(64, b"\x00") + struct.pack(">H", addr[1])
        assert self._udp is not None
        self._udp.sendto(reply, addr)
