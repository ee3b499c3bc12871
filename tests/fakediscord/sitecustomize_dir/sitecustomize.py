"""Points an unmodified bot process (``python main.py``) at the loopback fake Discord.

Put this directory on PYTHONPATH and set BRENT_FAKE_REST (``http://127.0.0.1:<port>``) and
BRENT_FAKE_GATEWAY (``ws://127.0.0.1:<port>/``); ``FakeDiscord.subprocess_env()`` does all of it,
plus SSL_CERT_FILE so the default TLS context trusts the fake's test CA for the voice wss://.
The bot itself has no switch for this: the test reaches it only through the environment.
Only loopback URLs are accepted, so a stray variable can never send a token elsewhere.
"""

from __future__ import annotations

import logging
import os
import urllib.parse

log = logging.getLogger(__name__)

_LOOPBACK = {"127.0.0.1", "::1", "localhost"}


def _point_at_fake() -> None:
    rest = os.environ.get("BRENT_FAKE_REST")
    gateway = os.environ.get("BRENT_FAKE_GATEWAY")
    if not rest or not gateway:
        return
    for url in (rest, gateway):
        if urllib.parse.urlsplit(url).hostname not in _LOOPBACK:
            raise SystemExit(f"sitecustomize: refusing non-loopback fake Discord URL {url!r}")

    import discord.gateway
    import discord.http
    import yarl

    discord.http.Route.BASE = rest.rstrip("/") + "/api/v10"
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway)
    log.debug("discord.py pointed at the fake: %s, %s", rest, gateway)


_point_at_fake()
