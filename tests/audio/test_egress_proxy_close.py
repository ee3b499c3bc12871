"""EgressProxy.close() with a connection still stuck in its name lookup: the client is dropped, the
connection's task ends before the proxy's loop closes, and asyncio logs nothing."""

from __future__ import annotations

import asyncio
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
