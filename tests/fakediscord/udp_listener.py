"""The fake's voice UDP socket, with each datagram stamped at the time the kernel received it.

Discord's voice servers are not in the bot's machine; what a listener hears is when packets arrive,
not when a busy Python loop gets round to them. asyncio's datagram endpoint can only stamp a packet
when its callback runs, so a 10 ms stretch of other work in the fake (a gateway burst, a garbage
collection) shows up as a 10 ms gap in every stream at once. On Linux the socket asks for
``SO_TIMESTAMPNS``: every datagram carries its kernel arrival time, converted here to
``time.perf_counter()``'s clock. Elsewhere the stamp is taken on receipt, as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import struct
import sys
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

# <asm-generic/socket.h>: SO_TIMESTAMPNS (SO_TIMESTAMPNS_OLD), whose control message is a struct
# timespec of two native longs; the same number on x86-64 and arm64.
_SO_TIMESTAMPNS = 35
_TIMESPEC = struct.Struct("@ll")
_ANCILLARY = socket.CMSG_SPACE(_TIMESPEC.size) if hasattr(socket, "CMSG_SPACE") else 0
MAX_DATAGRAM = 2048
DRAIN_LIMIT = 512  # datagrams per wake-up, so a flood cannot starve the loop's other callbacks

Handler = Callable[[bytes, tuple[str, int], float], None]


class TimestampedUdp:
    """A bound UDP socket on the running loop that hands ``handler`` each datagram and its
    arrival time (``perf_counter()`` clock)."""

    def __init__(self, handler: Handler, *, receive_buffer: int) -> None:
        self._handler = handler
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.setblocking(False)
        with contextlib.suppress(OSError):  # capped by the OS (net.core.rmem_max)
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        self.kernel_stamps = False
        if sys.platform.startswith("linux") and _ANCILLARY:
            try:
                self._sock.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)
                self.kernel_stamps = True
            except OSError:
                log.debug("fake discord: no kernel receive timestamps; stamping on receipt")
        self._sock.bind(("127.0.0.1", 0))
        self.port: int = self._sock.getsockname()[1]
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(self._sock.fileno(), self._drain)
        self._closed = False

    def sendto(self, data: bytes, address: tuple[str, int]) -> None:
        if not self._closed:
            with contextlib.suppress(BlockingIOError):  # a full send buffer drops it, as UDP would
                self._sock.sendto(data, address)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._loop.remove_reader(self._sock.fileno())
            self._sock.close()

    def _drain(self) -> None:
        for _ in range(DRAIN_LIMIT):
            try:
                data, ancillary, _flags, address = self._sock.recvmsg(MAX_DATAGRAM, _ANCILLARY)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                log.exception("fake discord: UDP receive failed")
                return
            try:
                self._handler(data, address, self._arrival(ancillary))
            except Exception:  # a bad packet must not kill the listener
                log.exception("fake discord: failed to handle a UDP datagram")

    @staticmethod
    def _arrival(ancillary: list[tuple[int, int, bytes]]) -> float:
        now = time.perf_counter()
        for level, kind, payload in ancillary:
            if level == socket.SOL_SOCKET and kind == _SO_TIMESTAMPNS and len(payload) >= _TIMESPEC.size:
                seconds, nanos = _TIMESPEC.unpack_from(payload)
                ago = time.time() - (seconds + nanos / 1e9)
                return now - max(0.0, ago)
        return now
