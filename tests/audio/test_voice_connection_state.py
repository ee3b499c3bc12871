"""The voice handshake's waits see every change of state, however soon it follows the last one, and
its UDP IP discovery gets its answer however soon (or late) it comes."""

from __future__ import annotations

import asyncio
import os
import socket
import struct
import threading
from collections.abc import AsyncIterator, Iterator
from types import SimpleNamespace

import pytest
from discord.voice_state import ConnectionFlowState

from audio.clocked_voice_client import ClockedVoiceClient
from audio.voice_connection_state import (
    DISCOVERY_RESEND,
    ReliableVoiceConnectionState,
    ReliableVoiceWebSocket,
)

GUILD_ID, CHANNEL_ID = 1111, 2222
STEPS = 8  # discord.py's own wait misses a change 3 steps after the one that woke it


@pytest.fixture
async def state() -> AsyncIterator[ReliableVoiceConnectionState]:
    client = SimpleNamespace(channel=SimpleNamespace(id=CHANNEL_ID), guild=SimpleNamespace(id=GUILD_ID))
    made = ReliableVoiceConnectionState(client)  # type: ignore[arg-type]  # the handlers read only these
    yield made
    made._socket_reader.stop()
    if made.socket:
        made.socket.close()


async def _steps(n: int) -> None:
    for _ in range(n):
        await asyncio.sleep(0)  # one pass of the loop: every task ready now runs one step


async def _waiting_for_both_updates(state: ReliableVoiceConnectionState) -> asyncio.Task[None]:
    state.state = ConnectionFlowState.set_guild_voice_state  # op 4 sent
    waiting = asyncio.create_task(state._wait_for_state(ConnectionFlowState.got_both_voice_updates))
    for _ in range(STEPS):
        if state._state_event._waiters:
            return waiting
        await _steps(1)
    raise AssertionError("the handshake never began waiting")


@pytest.mark.parametrize("gap", range(STEPS))
async def test_the_second_voice_update_completes_the_handshake_wait_however_soon_it_follows_the_first(
    state: ReliableVoiceConnectionState, gap: int
) -> None:
    waiting = await _waiting_for_both_updates(state)
    await state.voice_state_update(
        {"guild_id": str(GUILD_ID), "channel_id": str(CHANNEL_ID), "user_id": "1", "session_id": "s"}  # type: ignore[typeddict-item]
    )
    await _steps(gap)
    await state.voice_server_update({"token": "t", "guild_id": str(GUILD_ID), "endpoint": "127.0.0.1:9"})
    assert state.state is ConnectionFlowState.got_both_voice_updates
    await asyncio.wait_for(waiting, 2)


async def test_a_change_made_one_step_after_the_wait_began_wakes_it(state: ReliableVoiceConnectionState) -> None:
    state.state = ConnectionFlowState.set_guild_voice_state
    waiting = asyncio.create_task(state._wait_for_state(ConnectionFlowState.got_both_voice_updates))
    await _steps(1)  # the waiter has looked at the state and waits
    state.state = ConnectionFlowState.got_both_voice_updates
    await asyncio.wait_for(waiting, 2)


async def test_the_wait_ends_with_timeout_error_when_the_state_never_comes(state: ReliableVoiceConnectionState) -> None:
    state.state = ConnectionFlowState.set_guild_voice_state
    with pytest.raises(TimeoutError):
        await state._wait_for_state(ConnectionFlowState.connected, timeout=0.05)


async def test_the_bots_voice_client_uses_it() -> None:
    client = SimpleNamespace(_connection=SimpleNamespace(loop=asyncio.get_running_loop()))
    channel = SimpleNamespace(id=CHANNEL_ID, guild=SimpleNamespace(id=GUILD_ID))
    voice = ClockedVoiceClient(client, channel)  # type: ignore[arg-type]
    try:
        assert type(voice._connection) is ReliableVoiceConnectionState
    finally:
        voice._connection._socket_reader.stop()


class DiscoveryResponder:
    """A voice server's UDP side: answers each IP discovery request with the address it came from,
    after leaving the first ``ignore`` unanswered (lost)."""

    def __init__(self, ignore: int = 0) -> None:
        self.ignore = ignore
        self.requests = 0
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.settimeout(0.1)
        self.address = self._sock.getsockname()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, (host, port) = self._sock.recvfrom(128)
            except TimeoutError:
                continue
            self.requests += 1
            if self.requests <= self.ignore:
                continue
            ssrc = struct.unpack_from(">I", data, 4)[0]
            answer = struct.pack(">HHI", 2, 70, ssrc) + host.encode().ljust(64, b"\x00") + struct.pack(">H", port)
            self._sock.sendto(answer, (host, port))

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self._sock.close()


@pytest.fixture
def responder(request: pytest.FixtureRequest) -> Iterator[DiscoveryResponder]:
    made = DiscoveryResponder(ignore=getattr(request, "param", 0))
    yield made
    made.close()


def discovering(
    state: ReliableVoiceConnectionState, responder: DiscoveryResponder, loop: asyncio.AbstractEventLoop
) -> ReliableVoiceWebSocket:
    state.ssrc = 4321
    state._create_socket()  # as the VOICE_SERVER_UPDATE handler does; its reader thread runs
    state.socket.connect(responder.address)  # as initial_connection does
    ws = ReliableVoiceWebSocket(None, loop)  # type: ignore[arg-type]  # discovery uses no websocket
    ws._connection = state
    return ws


async def test_the_answer_is_read_even_when_the_socket_reader_paused_itself_late(
    state: ReliableVoiceConnectionState, responder: DiscoveryResponder
) -> None:
    ws = discovering(state, responder, asyncio.get_running_loop())
    # The reader thread's own first step, run only now: a starved thread reaching it after the
    # voice server update leaves the reader paused (not "idle"), which a new callback does not wake.
    state._socket_reader.pause()
    ip, port = await asyncio.wait_for(ws.discover_ip(), DISCOVERY_RESEND / 2)
    assert (ip, port) == state.socket.getsockname()
    assert responder.requests == 1


@pytest.mark.parametrize("responder", [1], indirect=True)
async def test_a_lost_discovery_request_is_sent_again(
    state: ReliableVoiceConnectionState, responder: DiscoveryResponder
) -> None:
    ws = discovering(state, responder, asyncio.get_running_loop())
    ip, port = await asyncio.wait_for(ws.discover_ip(), 3 * DISCOVERY_RESEND)
    assert (ip, port) == state.socket.getsockname()
    assert responder.requests == 2


@pytest.fixture
def descriptors_past_1024() -> Iterator[None]:
    """Enough open descriptors that the next socket is numbered above 1024, as in a bot holding
    ~200 voice connections."""
    resource = pytest.importorskip("resource", reason="descriptor limits are POSIX")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 1200:
        pytest.skip(f"the descriptor limit ({hard}) is below what the test needs")
    if soft != resource.RLIM_INFINITY and soft < 1200:
        resource.setrlimit(resource.RLIMIT_NOFILE, (1200, hard))
    held: list[int] = []
    try:
        while not held or held[-1] < 1030:
            held.append(os.open(os.devnull, os.O_RDONLY))
        yield
    finally:
        for fd in held:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


async def test_the_answer_is_read_on_a_socket_numbered_above_1024(
    descriptors_past_1024: None, state: ReliableVoiceConnectionState, responder: DiscoveryResponder
) -> None:
    ws = discovering(state, responder, asyncio.get_running_loop())
    assert state.socket.fileno() > 1024  # select() cannot watch it
    ip, port = await asyncio.wait_for(ws.discover_ip(), 3 * DISCOVERY_RESEND)
    assert (ip, port) == state.socket.getsockname()
