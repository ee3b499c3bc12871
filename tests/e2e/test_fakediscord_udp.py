"""Self-tests of the loopback Discord's UDP listener: arrival times are when a datagram came, not
when the fake's loop got round to it."""

from __future__ import annotations

import asyncio
import socket
import sys
import time

import pytest

from tests.fakediscord.udp_listener import TimestampedUdp

pytestmark = pytest.mark.e2e

BUSY_S = 0.08  # the fake's loop held up this long after the datagram arrived


async def _kernel_stamping_switched_on(sender: socket.socket, port: int, stamps: asyncio.Queue[float]) -> None:
    """Linux switches receive timestamps on for the first socket that asks in deferred work; until
    that has run, a datagram is stamped when it is read. The fake's socket has long been open when
    voice comes; here, wait until a datagram read 20 ms late carries its arrival time."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        sent = time.perf_counter()
        sender.sendto(b"\x80" * 40, ("127.0.0.1", port))
        time.sleep(0.02)  # the loop is busy (deliberately blocked)
        if await asyncio.wait_for(stamps.get(), 5) - sent < 0.01:
            return
    pytest.fail("no datagram was stamped at its arrival within 5 s")


async def _one_datagram_while_the_loop_is_busy() -> tuple[float, float, TimestampedUdp]:
    stamps: asyncio.Queue[float] = asyncio.Queue()
    listener = TimestampedUdp(lambda data, addr, at: stamps.put_nowait(at), receive_buffer=2**16)
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            await _kernel_stamping_switched_on(sender, listener.port, stamps)
            sent = time.perf_counter()
            sender.sendto(b"\x80" * 40, ("127.0.0.1", listener.port))
            time.sleep(BUSY_S)  # the loop is busy (deliberately blocked): no callback can run
            stamp = await asyncio.wait_for(stamps.get(), 5)
    finally:
        listener.close()
    return sent, stamp, listener


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="kernel receive timestamps are read on Linux only")
async def test_a_datagram_is_stamped_when_it_arrived_even_if_the_loop_was_busy() -> None:
    sent, stamp, listener = await _one_datagram_while_the_loop_is_busy()
    assert listener.kernel_stamps
    assert sent <= stamp + 0.001  # the same clock as the sender's perf_counter
    assert stamp - sent < BUSY_S / 4, f"stamped {1000 * (stamp - sent):.1f} ms after sending"


async def test_every_datagram_reaches_the_handler_with_its_address() -> None:
    got: list[tuple[bytes, int]] = []
    done = asyncio.Event()

    def handler(data: bytes, addr: tuple[str, int], at: float) -> None:
        got.append((data, addr[1]))
        if len(got) == 3:
            done.set()

    listener = TimestampedUdp(handler, receive_buffer=2**16)
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            sender.bind(("127.0.0.1", 0))
            for i in range(3):
                sender.sendto(bytes([i]) * 10, ("127.0.0.1", listener.port))
            await asyncio.wait_for(done.wait(), 5)
            listener.sendto(b"reply", sender.getsockname())
            assert sender.recv(16) == b"reply"
            port = sender.getsockname()[1]
    finally:
        listener.close()
    assert got == [(bytes([i]) * 10, port) for i in range(3)]
