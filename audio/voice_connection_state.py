"""discord.py's voice handshake with two races taken out: a missed state change and a missed IP answer.

discord.py 2.7.1 waits for a step of the voice handshake (both voice updates, the websocket
ready, connected) by checking the state and then awaiting ``sane_wait_for([event.wait()])``. That
wraps ``event.wait()`` in a new task, which registers itself on the event only when the loop runs
it, one step later; the state setter calls ``set()`` and then ``clear()`` at once. A change that
lands in that step (the second voice update arriving right behind the first is the usual one)
wakes nobody, and the join waits for its timeout although both updates came. Awaiting
``event.wait()`` directly registers the waiter in the same step as the check.

Its UDP IP discovery registers a callback with the connection's socket reader thread and waits
for the answer; the reader wakes for a callback only if it is "idle paused". But the reader thread
pauses itself (not idle) when it first runs, and it is started with the voice client: when it runs
only after the voice server update has created the socket (with many guilds playing the voice
clocks hold the GIL much of the time, so a new thread can wait that long), it stays paused with the
callback registered, never reads the answer, and the join times out. :class:`ReliableVoiceWebSocket`
wakes the reader itself and sends the request again every second until answered (a request lost
on a real network would hang the join just the same).
"""

from __future__ import annotations

import asyncio
import logging
import struct

from discord.gateway import DiscordVoiceWebSocket
from discord.utils import MISSING
from discord.voice_state import ConnectionFlowState, VoiceConnectionState

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


class ReliableVoiceConnectionState(VoiceConnectionState):
    """discord.py's VoiceConnectionState with a ``_wait_for_state`` that has no lost wake-ups and
    the :class:`ReliableVoiceWebSocket`."""

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
