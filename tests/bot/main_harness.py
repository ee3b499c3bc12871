"""Runs main.main() in a child process that cannot reach the internet.

An audit hook kills the process (exit 99) on any connection or name lookup that is not loopback, so a
test that expects "exits before any network call" fails loudly instead of contacting Discord. When
BRENT_TEST_API_BASE is set (a 127.0.0.1 URL), discord.py's REST base points there.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

LOOPBACK = {"127.0.0.1", "::1", "localhost"}


def _host_of(args: tuple[Any, ...]) -> str | None:
    address = args[1] if len(args) > 1 else None
    if isinstance(address, tuple) and address:
        return str(address[0])
    return None


def _guard(event: str, args: tuple[Any, ...]) -> None:
    if event in {"socket.connect", "socket.sendto"}:
        host = _host_of(args)
        if host is not None and host not in LOOPBACK:
            os.write(2, f"NETWORK ATTEMPT {event} {host}\n".encode())
            os._exit(99)
    elif event in {"socket.getaddrinfo", "socket.gethostbyname"}:
        host = str(args[0]) if args else ""
        if host not in LOOPBACK:
            os.write(2, f"NETWORK ATTEMPT {event} {host}\n".encode())
            os._exit(99)


def run() -> int:
    sys.addaudithook(_guard)
    project = Path(__file__).resolve().parents[2]
    sys.path.insert(0, str(project))
    base = os.environ.get("BRENT_TEST_API_BASE")
    if base:
        import discord.http

        assert base.startswith("http://127.0.0.1:"), base
        discord.http.Route.BASE = base
    import main

    return main.main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(run())
