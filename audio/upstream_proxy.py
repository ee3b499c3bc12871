"""The owner's own proxy (``YTDLP_PROXY``), which the egress gate connects through when one is set.

The gate still resolves and checks every name itself and asks the upstream proxy to ``CONNECT`` to
the very address it checked (never to the name, which the upstream would resolve again), so the
address rules hold whatever the upstream proxy can reach. Media goes the same way as lookups:
YouTube's media URLs only play from the address that looked them up. The credential in the URL is
sent to the upstream proxy alone and never logged.
"""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import logging
import urllib.parse
from dataclasses import dataclass, field

from audio import proxy_wire as wire

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class UpstreamProxy:
    host: str
    port: int
    authorization: str | None = field(default=None, repr=False)  # the Basic credential, base64

    @classmethod
    def parse(cls, url: str) -> UpstreamProxy:
        """``http://[user:password@]host:port``; anything else is a ValueError saying what to write."""
        parts = urllib.parse.urlsplit(url.strip())
        if parts.scheme.lower() != "http":
            raise ValueError("write it as http://[user:password@]host:port (only HTTP proxies are supported)")
        try:
            port = parts.port
        except ValueError:
            port = None
        if not parts.hostname or port is None:
            raise ValueError("give the proxy's host and port, as in http://proxy.example:8080")
        authorization = None
        if parts.username is not None:
            user = urllib.parse.unquote(parts.username)
            password = urllib.parse.unquote(parts.password or "")
            authorization = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        return cls(parts.hostname, port, authorization)

    async def open(
        self, address: ipaddress.IPv4Address | ipaddress.IPv6Address, port: int, timeout: float
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """A connection to ``address:port`` through a ``CONNECT`` tunnel of the upstream proxy."""
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(self.host, self.port, limit=wire.RELAY_CHUNK), timeout
        )
        target = f"[{address}]:{port}" if address.version == 6 else f"{address}:{port}"
        head = f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n"
        if self.authorization:
            head += f"Proxy-Authorization: Basic {self.authorization}\r\n"
        try:
            writer.write((head + "\r\n").encode("latin-1"))
            answer = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
        except BaseException:
            writer.close()
            raise
        status = answer.split(b"\r\n", 1)[0].split(b" ")
        if len(status) < 2 or status[1] != b"200":
            writer.close()
            raise OSError(f"the upstream proxy refused the tunnel: {status[1:2]!r}")
        return reader, writer
