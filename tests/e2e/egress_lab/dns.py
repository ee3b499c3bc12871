"""A minimal authoritative DNS responder for the egress lab: A answers that change over time.

DNS rebinding needs a name whose address changes between the bot's check and its connection,
which /etc/hosts cannot do. This server answers UDP queries for the names it was told about:
an A query gets the next address of the name's sequence (the last one repeats) or whatever
:meth:`LabDns.point` set it to last, always with TTL 0 so nothing caches it; AAAA gets an empty
NOERROR answer (no IPv6 for any lab name); unknown names get NXDOMAIN. Every query is recorded so
the scenario can show which process asked and what it was told.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from dataclasses import dataclass

QTYPE_A = 1
QTYPE_AAAA = 28
_RCODE_NXDOMAIN = 3


@dataclass(frozen=True, slots=True)
class DnsQuery:
    """One question as received, and the address it was answered with (None: no A record given)."""

    name: str
    qtype: int
    answer: str | None
    at: float


class LabDns:
    """Serves A records from per-name address sequences on ``host``:``port`` (UDP) on its own thread."""

    def __init__(self, host: str = "127.0.0.53", port: int = 53) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind((host, port))
        self._lock = threading.Lock()
        self._sequences: dict[str, list[str]] = {}
        self._served: dict[str, int] = {}
        self.queries: list[DnsQuery] = []
        self._thread = threading.Thread(target=self._serve, name="lab-dns", daemon=True)

    def __enter__(self) -> LabDns:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        self._sock.close()
        self._thread.join(timeout=5)

    def sequence(self, name: str, addresses: list[str]) -> None:
        """A queries for ``name`` get ``addresses`` in turn; the last one is kept from then on."""
        with self._lock:
            self._sequences[name.lower()] = list(addresses)
            self._served[name.lower()] = 0

    def point(self, name: str, address: str) -> None:
        """From now on every A query for ``name`` gets ``address`` (the mid-stream flip)."""
        self.sequence(name, [address])

    def snapshot(self) -> list[DnsQuery]:
        """Every query so far, in order."""
        with self._lock:
            return list(self.queries)

    def _answer_for(self, name: str, qtype: int) -> tuple[int, str | None]:
        """(rcode, address or None) for one question; counts A queries per name."""
        with self._lock:
            addresses = self._sequences.get(name)
            answer: str | None = None
            rcode = 0 if addresses is not None else _RCODE_NXDOMAIN
            if addresses is not None and qtype == QTYPE_A:
                index = min(self._served[name], len(addresses) - 1)
                self._served[name] += 1
                answer = addresses[index]
            self.queries.append(DnsQuery(name, qtype, answer, time.perf_counter()))
            return rcode, answer

    def _serve(self) -> None:
        while True:
            try:
                packet, client = self._sock.recvfrom(2048)
            except OSError:
                return  # closed by __exit__
            with contextlib.suppress(ValueError, IndexError, struct.error, OSError):
                self._sock.sendto(self._respond(packet), client)

    def _respond(self, packet: bytes) -> bytes:
        ident, flags, qdcount = struct.unpack("!HHH", packet[:6])
        if qdcount != 1:
            raise ValueError("one question per query")
        labels, offset = [], 12
        while (length := packet[offset]) != 0:
            labels.append(packet[offset + 1 : offset + 1 + length].decode("ascii").lower())
            offset += 1 + length
        qtype, _qclass = struct.unpack("!HH", packet[offset + 1 : offset + 5])
        question = packet[12 : offset + 5]
        rcode, address = self._answer_for(".".join(labels), qtype)
        # QR=1, opcode and RD copied, AA=1, RA=1.
        reply_flags = 0x8000 | (flags & 0x7900) | 0x0400 | 0x0080 | rcode
        header = struct.pack("!HHHHHH", ident, reply_flags, 1, 1 if address else 0, 0, 0)
        answer = b""
        if address:
            # name: pointer to the question's name at offset 12; type A, class IN, TTL 0, 4 bytes.
            answer = struct.pack("!HHHIH", 0xC00C, QTYPE_A, 1, 0, 4) + socket.inet_aton(address)
        return header + question + answer
