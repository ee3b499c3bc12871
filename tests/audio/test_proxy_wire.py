"""The egress proxy's byte pump stops copying into a connection that is closing."""

from __future__ import annotations

import asyncio
import socket

import pytest

from audio.proxy_wire import pump

pytestmark = pytest.mark.timeout(30)


async def test_a_pump_stops_once_the_connection_it_writes_to_is_closing() -> None:
    ours, theirs = socket.socketpair()
    with theirs:
        _, writer = await asyncio.open_connection(sock=ours)
        source = asyncio.StreamReader()
        source.feed_data(b"media bytes")  # and more may come: the source never ends here
        writer.close()
        await asyncio.wait_for(pump(source, writer, None), 5)
        await writer.wait_closed()
        assert theirs.recv(64) == b""  # the end, with nothing written after the close
