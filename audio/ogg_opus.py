"""Opus packets out of an Ogg byte stream, taken as the bytes arrive, and how long each packet plays.

discord.py's own ``OggStream`` reads its pipe with blocking reads; a voice clock serving every guild
must never block on one guild's pipe, so :class:`OggPackets` works on whatever bytes the caller
already has and keeps an incomplete page (or a packet spread over pages) for the next call.
"""

from __future__ import annotations

import struct

OPUS_RATE = 48000  # Opus always runs at 48 kHz, whatever rate the header says the input had
_PAGE_HEADER = struct.Struct("<4sBBqIIIB")  # capture, version, flags, granule, serial, seq, crc, segments
_CAPTURE = b"OggS"
_HEADERS = (b"OpusHead", b"OpusTags")
# Frame length in samples at 48 kHz of each TOC configuration (RFC 6716, 3.1): SILK, hybrid, CELT.
_FRAME_SAMPLES = (
    [480, 960, 1920, 2880] * 3  # 0-11 SILK: 10, 20, 40, 60 ms
    + [480, 960] * 2  # 12-15 hybrid: 10, 20 ms
    + [120, 240, 480, 960] * 4  # 16-31 CELT: 2.5, 5, 10, 20 ms
)


class OggError(ValueError):
    """The bytes are not an Ogg stream."""


def opus_packet_samples(packet: bytes) -> int:
    """How many 48 kHz samples an Opus packet decodes to (0 for an empty or malformed one)."""
    if not packet:
        return 0
    toc = packet[0]
    code = toc & 0x03
    if code == 0:
        frames = 1
    elif code in (1, 2):
        frames = 2
    else:
        frames = packet[1] & 0x3F if len(packet) > 1 else 0
    return frames * _FRAME_SAMPLES[toc >> 3]


class OggPackets:
    """Feeds on an Ogg Opus byte stream; :meth:`take` returns the audio packets complete so far
    (the OpusHead and OpusTags header packets are left out)."""

    def __init__(self) -> None:
        self._partial = bytearray()  # a packet continued on the next page

    def take(self, buffer: bytearray) -> list[bytes]:
        """Consume the complete pages at the front of ``buffer``; their finished packets, in order."""
        packets: list[bytes] = []
        while len(buffer) >= _PAGE_HEADER.size:
            capture, _version, _flags, _granule, _serial, _seq, _crc, count = _PAGE_HEADER.unpack_from(buffer)
            if capture != _CAPTURE:
                raise OggError("lost the Ogg page sync")
            lacing_end = _PAGE_HEADER.size + count
            if len(buffer) < lacing_end:
                break
            lacing = buffer[_PAGE_HEADER.size : lacing_end]
            page_end = lacing_end + sum(lacing)
            if len(buffer) < page_end:
                break
            offset = lacing_end
            for size in lacing:
                self._partial += buffer[offset : offset + size]
                offset += size
                if size < 255:
                    packet = bytes(self._partial)
                    self._partial.clear()
                    if not packet.startswith(_HEADERS):
                        packets.append(packet)
            del buffer[:page_end]
        return packets
