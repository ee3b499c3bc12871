"""A throwaway certificate authority for the fake's TLS voice gateway.

discord.py hard-codes ``wss://`` for the voice websocket, so the fake must speak TLS. A trustme CA
issues a certificate for 127.0.0.1; the bot trusts it either through a connector ssl context
(in-process) or through SSL_CERT_FILE (the ``python main.py`` subprocess).
"""

from __future__ import annotations

import logging
import ssl
from pathlib import Path

import trustme

log = logging.getLogger(__name__)


class TestCertificateAuthority:
    __test__ = False  # not a pytest class

    def __init__(self, directory: Path) -> None:
        self._ca = trustme.CA()
        self._server_cert = self._ca.issue_cert("127.0.0.1", "localhost")
        self.ca_cert_path = directory / "fake-discord-ca.pem"
        self._ca.cert_pem.write_to_path(str(self.ca_cert_path))

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._server_cert.configure_cert(ctx)
        return ctx

    def client_context(self) -> ssl.SSLContext:
        """Verifying context that trusts only this CA (nothing else is reachable in tests anyway)."""
        return ssl.create_default_context(cafile=str(self.ca_cert_path))
