"""discord.py's voice connection with a missed state change, a missed IP answer and select() taken out.

discord.py 2.7.1 waits for a step of the voice handshake (both voice updates, the websocket
ready, connected) by checking the state and then awaiting ``sane_wait_for([event.wait()])``. That
wraps ``event.wait()`` in a new task, which registers itself on the event only when the loop runs
it, one step later; the state setter calls ``set()`` and then ``clear()`` at once. A change that
lands in that step (the second voice update arriving right behind the first is the usual one)
wakes nobody, and the join waits for its timeout although both updates came. Awaiting
``event.wait()`` directly registers the waiter in the same step as the check.

Its UDP IP discovery registers a callback with the connection's socket reader thread and waits
for the answer; the reader wakes for a callback only if it is "idle paused". But the reader thread
pauses itself (not idle) when it first runs, and it is started with the voice client: if it first
runs only after the voice server update has created the socket (a thread starved of the GIL), it
stays paused with the callback registered and never reads the answer. :class:`ReliableVoiceWebSocket`
wakes the reader itself and sends the request again every second until answered (a request lost
on a real network would hang the join just the same).

That reader waits with ``select()``, which cannot watch a descriptor numbered 1024 or above: it
raises, the reader logs at debug level and tries again at once, for ever. A bot holding ~200 voice
connections (each with its UDP socket, ffmpeg pipe and proxy connections) hands new sockets such
numbers, and from then on every join hung in IP discovery while its reader spun (seen as joins
timing out near 196 streams in the capacity ramp). The readers here wait with ``poll()`` where the
platform has it.
"""

from __future__ import annotations

import asyncio
import logging
import select
import socket
import struct
from typing import TYPE_CHECKING

from discord import voice_state
from discord.gateway import DiscordVoiceWebSocket
from discord.utils import MISSING
from discord.voice_state import ConnectionFlowState, SocketReader, VoiceConnectionState

if TYPE_CHECKING:
    from discord.voice_client import VoiceClient
    from discord.voice_state import WebsocketHook

log = logging.getLogger(__name__)

DISCOVERY_RESEND = 1.0  # seconds without an answer before the IP discovery request goes again


class ReliableVoiceWebSocket(DiscordVoiceWebSocket):
    """discord.py's voice websocket whose IP discovery cannot miss or lose its answer."""

    async def discover_ip(self) -> tuple[str, int]:
        state = self._connection
        request = bytearray(74)
        struct.pack_into(">HHI", request, 0, 1, 70, state.ssrc)  # 1 = request, 70 = length, ssrc
        answer: asyncio.Future[bytes] = self.loop.create_future()

        def take(data: bytes) -> None:  # on the socket reader's thread
            if len(data) == 74 and data[1] == 0x02:
                self.loop.call_soon_threadsafe(_settle, answer, data)

        state.add_socket_listener(take)
        try:
            while True:
                state._socket_reader.resume(force=True)  # a no-op when it is reading already
                await self.loop.sock_sendall(state.socket, request)
                done, _ = await asyncio.wait({answer}, timeout=DISCOVERY_RESEND)
                if done:
                    break
                log.info("voice IP discovery for guild %s got no answer; asking again", state.server_id)
        finally:
            state.remove_socket_listener(take)
        data = answer.result()
        ip = data[8 : data.index(0, 8)].decode("ascii")
        (port,) = struct.unpack_from(">H", data, len(data) - 2)
        return ip, port


def _settle(future: asyncio.Future[bytes], data: bytes) -> None:
    if not future.done():  # a resent request can be answered twice
        future.set_result(data)


class PollingSocketReader(SocketReader):
    """discord.py's SocketReader waiting with ``poll()`` (no descriptor limit) instead of ``select()``."""

    def _do_run(self) -> None:
        if not hasattr(select, "poll"):  # Windows: its select() has no such limit
            super()._do_run()
            return
        watched: tuple[socket.socket, select.poll] | None = None
        while not self._end.is_set():
            if not self._running.is_set():
                self._running.wait()
                continue
            sock = self.state.socket
            try:
                if watched is None or watched[0] is not sock:
                    poller = select.poll()
                    poller.register(sock, select.POLLIN)
                    watched = (sock, poller)
                readable = watched[1].poll(30_000)
                data = sock.recv(2048) if readable else b""
            except (ValueError, TypeError, OSError) as exc:  # no socket yet, or it was closed
                log.debug("voice socket reader: %r; waiting for a socket", exc)
                watched = None
                self._end.wait(0.05)
                continue
            if not data:
                continue
            for callback in list(self._callbacks):
                try:
                    callback(data)
                except Exception:
                    log.exception("voice socket reader: callback %r failed", callback)


class ReliableVoiceConnectionState(VoiceConnectionState):
    """discord.py's VoiceConnectionState with a ``_wait_for_state`` that has no lost wake-ups, the
    :class:`ReliableVoiceWebSocket` and the :class:`PollingSocketReader`."""

    def __init__(self, voice_client: VoiceClient, *, hook: WebsocketHook | None = None) -> None:
        # discord.py makes and starts its reader in __init__; ours is made in its place (the loop's
        # thread is the only one that makes connections).
        stock, voice_state.SocketReader = voice_state.SocketReader, PollingSocketReader  # type: ignore[misc]
        try:
            super().__init__(voice_client, hook=hook)
        finally:
            voice_state.SocketReader = stock  # type: ignore[misc]

    async def _wait_for_state(
        self, state: ConnectionFlowState, *other_states: ConnectionFlowState, timeout: float | None = None
    ) -> None:
        states = (state, *other_states)
        # The timeout bounds the whole wait, not each change of state on the way.
        async with asyncio.timeout(timeout):
            while self.state not in states:
                await self._state_event.wait()

    async def _connect_websocket(self, resume: bool) -> DiscordVoiceWebSocket:
        """discord.py's own, with the websocket class above."""
        seq_ack = -1 if self.ws is MISSING else self.ws.seq_ack
        ws = await ReliableVoiceWebSocket.from_connection_state(self, resume=resume, hook=self.hook, seq_ack=seq_ack)
        self.state = ConnectionFlowState.websocket_connected
        return ws
