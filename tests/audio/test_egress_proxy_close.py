"""EgressProxy.close() with a connection still stuck in its name lookup: the client is dropped, the
connection's task ends before the proxy's loop closes, and asyncio logs nothing."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import socket
import threading

import pytest

from audio.egress_proxy import EgressProxy
from tests.audio.test_egress_proxy import _auth, _Policy

pytestmark = pytest.mark.timeout(60)


def test_close_with_a_connection_stuck_in_its_name_lookup_drops_it_and_logs_no_error(caplog: pytest.LogCaptureFixture) -> None:
    asked, release = threading.Event(), threading.Event()

    def stuck_resolver(host: str) -> list[str]:
        asked.set()
        release.wait(30)
        return ["127.0.0.1"]

    proxy = EgressProxy(_Policy(stuck_resolver))
    proxy.start()
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=10) as client:
        client.sendall(f"GET http://stuck.example/a.mp3 HTTP/1.1\r\nHost: stuck.example\r\n{_auth(proxy)}\r\n".encode())
        assert asked.wait(10)
        with caplog.at_level(logging.ERROR, logger="asyncio"):
            proxy.close()
            release.set()
            gc.collect()
        assert client.recv(1024) == b""  # dropped, not answered
    assert [r.getMessage() for r in caplog.records if r.name == "asyncio"] == []
    left = [task for task in gc.get_objects() if isinstance(task, asyncio.Task) and not task.done()
            and "EgressProxy._serve" in repr(task.get_coro())]
    assert left == []


def test_close_with_a_client_that_stopped_reading_ends_every_connection_at_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """ffmpeg killed mid-stream (or a client that hangs) leaves unsent bytes in the proxy's buffers;
    a shutdown does not wait for them to be delivered."""
    origin = socket.socket()
    origin.bind(("127.0.0.1", 0))
    origin.listen(1)
    sent = threading.Event()

    def serve_forever() -> None:
        conn, _ = origin.accept()
        with conn:
            conn.recv(4096)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: audio/mpeg\r\n\r\n")
            conn.settimeout(1.0)
            try:
                while True:
                    conn.sendall(b"\xff" * 65536)
            except OSError:  # blocked a second: every buffer on the way is full; or the proxy closed
                sent.set()

    server = threading.Thread(target=serve_forever, daemon=True)
    server.start()
    proxy = EgressProxy(_Policy(lambda host: ["127.0.0.1"]))
    proxy.start()
    host, port = origin.getsockname()
    with socket.socket() as client:
        client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        client.connect(("127.0.0.1", proxy.port))
        client.sendall(f"GET http://{host}:{port}/a.mp3 HTTP/1.1\r\nHost: {host}\r\n{_auth(proxy)}\r\n".encode())
        assert sent.wait(30)  # the client reads nothing: the proxy's write buffer is full
        with caplog.at_level(logging.ERROR, logger="asyncio"):
            proxy.close()
            gc.collect()
        client.settimeout(10)
        with contextlib.suppress(ConnectionResetError):
            while client.recv(65536):
                pass  # what was already on its way, then the end
    server.join(10)
    origin.close()
    assert [r.getMessage() for r in caplog.records if r.name == "asyncio"] == []
