"""FakeDiscord: the loopback Discord the end-to-end tests point a real discord.py bot at.

It runs on its own event loop in its own thread. The bot under test runs on the test's loop, so
the fake keeps answering and timestamping packets even while the bot's loop is busy, and the
arrival times it records are not delayed by the code being measured. Test-facing coroutines hop to
the fake's loop and back (see :mod:`tests.fakediscord.waiting`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from tests.fakediscord import model
from tests.fakediscord.dave_controls import DaveControls
from tests.fakediscord.gateway import Gateway
from tests.fakediscord.interaction_routes import InteractionRoutes
from tests.fakediscord.member_actions import MemberActions
from tests.fakediscord.member_actions import thing_id as _id
from tests.fakediscord.model import FakeChannel, FakeGuild, FakeUser
from tests.fakediscord.recorder import GapStats, VoiceRecorder
from tests.fakediscord.rest import RestApi
from tests.fakediscord.tls import TestCertificateAuthority
from tests.fakediscord.voice import VoiceServer, VoiceSession
from tests.fakediscord.waiting import Notifier
from tests.fakediscord.world import GatewayOp, InjectedMessage, RestCall, World

log = logging.getLogger(__name__)

SITECUSTOMIZE_DIR = Path(__file__).parent / "sitecustomize_dir"

MessagePredicate = str | Callable[[dict[str, Any]], bool] | None


@dataclass(frozen=True, slots=True)
class ScenarioMetrics:
    """What a benchmark wants from one scenario: command-to-sound latency and pacing."""

    first_packet_latency_s: float | None
    gaps: GapStats
    audio_seconds: float
    packets: int
    sequence_breaks: int
    errors: int
    transitions_s: tuple[float, ...] = ()  # track-to-track (and pause) gaps, see VoiceRecorder.transitions

    def as_dict(self) -> dict[str, Any]:
        return {
            "first_packet_latency_s": self.first_packet_latency_s, "gaps": self.gaps.as_dict(),
            "audio_seconds": self.audio_seconds, "packets": self.packets,
            "sequence_breaks": self.sequence_breaks, "errors": self.errors,
            "transitions_s": list(self.transitions_s),
        }


def _matches(predicate: MessagePredicate, message: dict[str, Any]) -> bool:
    if predicate is None:
        return True
    if isinstance(predicate, str):
        return predicate.lower() in model.message_text(message).lower()
    return predicate(message)


class FakeDiscord(MemberActions, DaveControls):
    """``async with FakeDiscord() as fake:`` – REST, main gateway, TLS voice gateway and UDP on 127.0.0.1.

    ``require_token`` makes REST and IDENTIFY refuse any other token (for login-failure tests);
    by default any token is accepted, as a made-up one is all tests have. ``decode_audio=False``
    keeps timing, sequence and frame lengths but no PCM (long, many-guild benchmark runs): pitch
    and loudness helpers then see no sound, ``audio_seconds`` and the waits still work.
    ``dave=True`` negotiates DAVE end-to-end encryption; the members in the bot's channel are
    its group (see :mod:`tests.fakediscord.dave`).
    """

    def __init__(
        self, *, require_token: str | None = None, bot_name: str = "Brent", decode_audio: bool = True, dave: bool = False
    ) -> None:
        self._require_token = require_token
        self._decode_audio = decode_audio
        self._dave = dave
        self._bot_name = bot_name
        self._thread: threading.Thread | None = None
        self._started = threading.Event()
        self._startup_error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._tmp = Path(tempfile.mkdtemp(prefix="fakediscord-"))
        self.rest_url = ""
        self.gateway_url = ""
        self.voice_endpoint = ""
        self._ca: TestCertificateAuthority | None = None
        self.world: World
        self.gateway: Gateway
        self.voice: VoiceServer
        self.rest: RestApi
        self.notifier: Notifier

    # --- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the servers in a background thread (blocking until they listen)."""
        self._ca = TestCertificateAuthority(self._tmp)
        self._thread = threading.Thread(target=self._thread_main, name="fake-discord", daemon=True)
        self._thread.start()
        self._started.wait(30)
        if self._startup_error is not None:
            raise RuntimeError("fake discord failed to start") from self._startup_error
        if not self._started.is_set():
            raise RuntimeError("fake discord did not start within 30 s")

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(15)
        shutil.rmtree(self._tmp, ignore_errors=True)

    async def __aenter__(self) -> FakeDiscord:
        await asyncio.to_thread(self.start)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.to_thread(self.stop)

    def _thread_main(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # surfaced to start()
            self._startup_error = exc
            self._started.set()

    async def _main(self) -> None:
        assert self._ca is not None
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self.notifier = Notifier(self._loop)
        self.world = World(self.notifier, bot_name=self._bot_name)
        self.voice = VoiceServer(self.world, decode_audio=self._decode_audio, dave=self._dave)
        self.world.on_voice_change = self.voice.on_voice_change
        await self.voice.start_udp()
        self.gateway = Gateway(self.world, self.voice, require_token=self._require_token)
        self.rest = RestApi(self.world, gateway_url="", require_token=self._require_token)
        self.interaction_routes = InteractionRoutes()

        app = web.Application(middlewares=[self.rest.middleware])
        app.add_routes([web.get("/", self.gateway.handle), *self.interaction_routes.routes(), *self.rest.routes()])
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        port = runner.addresses[0][1]

        voice_app = web.Application()
        voice_app.add_routes([web.get("/", self.voice.handle)])
        voice_runner = web.AppRunner(voice_app, access_log=None, shutdown_timeout=2.0)
        await voice_runner.setup()
        await web.TCPSite(voice_runner, "127.0.0.1", 0, ssl_context=self._ca.server_context()).start()
        voice_port = voice_runner.addresses[0][1]

        self.rest_url = f"http://127.0.0.1:{port}"
        self.gateway_url = f"ws://127.0.0.1:{port}/"
        self.voice_endpoint = f"127.0.0.1:{voice_port}"
        self.gateway.url = self.gateway_url
        self.rest.gateway_url = self.gateway_url
        self.voice.endpoint = self.voice_endpoint
        self._started.set()
        try:
            await self._stop.wait()
        finally:
            for conn in list(self.gateway.connections):
                await conn.ws.close(code=1001)
            for session in self.voice.sessions:
                if not session.ws.closed:
                    await session.ws.close(code=1001)
            self.voice.close_udp()
            await voice_runner.cleanup()
            await runner.cleanup()

    # --- wiring a bot to it ---------------------------------------------------------------------------

    @property
    def ca_cert_path(self) -> Path:
        """PEM of the test CA; give it to a subprocess as SSL_CERT_FILE."""
        assert self._ca is not None
        return self._ca.ca_cert_path

    def ssl_context_for_client(self) -> Any:
        assert self._ca is not None
        return self._ca.client_context()

    def connector(self) -> aiohttp.TCPConnector:
        """A connector for ``commands.Bot(connector=...)``; create it inside the running loop."""
        return aiohttp.TCPConnector(ssl=self.ssl_context_for_client(), limit=0)

    def subprocess_env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """Environment for ``python main.py`` so an unmodified bot talks to this fake.

        The sitecustomize on PYTHONPATH redirects discord.py's two base URLs; SSL_CERT_FILE makes
        the default TLS context (aiohttp builds it at import) trust the test CA for the voice wss.
        """
        env = dict(os.environ if base is None else base)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(SITECUSTOMIZE_DIR), env.get("PYTHONPATH", "")) if p)
        env["BRENT_FAKE_REST"] = self.rest_url
        env["BRENT_FAKE_GATEWAY"] = self.gateway_url
        env["SSL_CERT_FILE"] = str(self.ca_cert_path)
        return env

    # --- the world ---------------------------------------------------------------------------------

    @property
    def bot_user(self) -> FakeUser:
        return self.world.bot

    @property
    def application_id(self) -> int:
        return self.world.application_id

    def add_guild(self, name: str = "Test Guild", **kwargs: Any) -> FakeGuild:
        """A guild with text/voice channels and members (see :meth:`World.add_guild`).

        Before the bot connects it is part of READY; afterwards the bot gets GUILD_CREATE.
        """
        return self.notifier.call(lambda: self.world.add_guild(name, **kwargs))

    @property
    def guilds(self) -> list[FakeGuild]:
        return list(self.world.guilds.values())

    def voice_log(self, guild: FakeGuild | int) -> VoiceRecorder:
        return self.notifier.call(lambda: self.world.recorder(_id(guild)))

    def bot_voice_channel(self, guild: FakeGuild | int) -> int | None:
        """The voice channel the bot is in according to Discord (the fake), or None."""
        return self.notifier.call(lambda: self.world.voice_channel_of(_id(guild), self.world.bot.id))

    def member_voice_channel(self, guild: FakeGuild | int, member: FakeUser | int) -> int | None:
        return self.notifier.call(lambda: self.world.voice_channel_of(_id(guild), _id(member)))

    def voice_sessions(self, guild: FakeGuild | int) -> list[VoiceSession]:
        """Voice websocket sessions of the guild that are still open."""
        return self.notifier.call(lambda: self.voice.active_sessions(_id(guild)))

    @property
    def rest_log(self) -> list[RestCall]:
        return list(self.world.rest_log)

    def rest_calls(self, method: str | None = None, path_contains: str = "") -> list[RestCall]:
        return [c for c in self.rest_log if (method is None or c.method == method) and path_contains in c.path]

    @property
    def unhandled_rest_calls(self) -> list[RestCall]:
        return list(self.rest.unhandled)

    @property
    def gateway_log(self) -> list[GatewayOp]:
        return list(self.world.gateway_log)

    def bot_messages(self, channel: FakeChannel | int | None = None, *, after: InjectedMessage | int | None = None) -> list[dict[str, Any]]:
        after_id = 0 if after is None else (after if isinstance(after, int) else after.id)
        return self.notifier.call(
            lambda: [dict(m) for m in self.world.bot_messages(None if channel is None else _id(channel), after_id=after_id)]
        )

    def message_time(self, message: dict[str, Any] | int) -> float:
        """perf_counter when the fake created ``message`` (for a bot reply: when its POST arrived).

        Commands reply after acting, so a reply's time splits "before" from "after" in the audio.
        """
        message_id = message if isinstance(message, int) else int(message["id"])
        return self.world.message_times[message_id]

    # --- waiting --------------------------------------------------------------------------------------

    async def wait_for_message(
        self,
        channel: FakeChannel | int,
        predicate: MessagePredicate = None,
        timeout: float = 10.0,
        *,
        after: InjectedMessage | int | None = None,
    ) -> dict[str, Any]:
        """Until the bot has a message in ``channel`` matching ``predicate`` (edits count).

        A string predicate is a case-insensitive substring of the text a user reads (content and
        embeds, see :func:`model.message_text`). ``after`` (a command or a message id) skips
        older answers.
        """
        channel_id = _id(channel)
        after_id = 0 if after is None else (after if isinstance(after, int) else after.id)

        def probe() -> dict[str, Any] | None:
            for m in self.world.bot_messages(channel_id, after_id=after_id):
                if _matches(predicate, m):
                    return dict(m)
            return None

        def describe() -> str:
            seen = [model.message_text(m) for m in self.world.bot_messages(channel_id, after_id=after_id)]
            return f"a bot message matching {predicate!r} in channel {channel_id}; bot said: {seen!r}"

        return await self.notifier.wait(probe, timeout, describe)

    async def wait_for_ready(self, timeout: float = 10.0) -> None:
        """Until the bot has identified (the fake sent READY and GUILD_CREATEs)."""
        await self.notifier.wait(lambda: self.gateway.identify_count > 0, timeout, lambda: "IDENTIFY")

    async def wait_for_bot_voice(self, guild: FakeGuild | int, channel: FakeChannel | int | None, timeout: float = 10.0) -> None:
        """Until the bot's voice state in ``guild`` is ``channel``; for a channel, also until its voice
        session is fully negotiated (SESSION_DESCRIPTION sent), so audio can flow."""
        guild_id = _id(guild)
        channel_id = None if channel is None else _id(channel)

        def probe() -> bool:
            if self.world.voice_channel_of(guild_id, self.world.bot.id) != channel_id:
                return False
            if channel_id is None:
                return True
            return any(s.secret_key is not None for s in self.voice.active_sessions(guild_id))

        await self.notifier.wait(
            probe, timeout,
            lambda: f"bot voice channel {channel_id} in guild {guild_id} "
            f"(is {self.world.voice_channel_of(guild_id, self.world.bot.id)})",
        )

    async def wait_for_rest(self, method: str, path_contains: str, timeout: float = 10.0, *, after: float | None = None) -> RestCall:
        def probe() -> RestCall | None:
            return next(
                (c for c in self.world.rest_log
                 if c.method == method and path_contains in c.path and (after is None or c.at > after)),
                None,
            )

        return await self.notifier.wait(probe, timeout, lambda: f"REST {method} …{path_contains}…")

    async def wait_until(self, check: Callable[[], bool], timeout: float = 10.0, what: str = "a condition") -> None:
        """Until ``check()`` about the fake's state holds; it is re-run on the fake's loop after every
        change there, so it must not depend on the bot's state (use ``wait_for_bot`` for that)."""
        await self.notifier.wait(lambda: check() or None, timeout, lambda: what)

    # --- measurements --------------------------------------------------------------------------------

    def metrics(self, guild: FakeGuild | int, since: InjectedMessage | float) -> ScenarioMetrics:
        """Latency from a command (or a perf_counter time) to the first audible packet, plus pacing."""
        t0 = since if isinstance(since, float) else since.sent_at
        rec = self.voice_log(guild)
        return ScenarioMetrics(
            first_packet_latency_s=rec.latency_after(t0),
            gaps=rec.gap_stats(after=t0),
            audio_seconds=rec.audio_seconds(after=t0),
            packets=len(rec.packets_after(t0)),
            sequence_breaks=len(rec.sequence_breaks(after=t0)),
            errors=len(rec.errors),
            transitions_s=tuple(rec.transitions(after=t0)),
        )
