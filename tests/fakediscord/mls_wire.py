"""The MLS (RFC 9420) bytes the voice server writes and reads as DAVE's external sender.

Discord's voice server is not a group member: it announces an external sender (op 25), proposes
adding and removing members with proposals signed by that sender (op 27), and relays the commit
and welcome one member made (op 28 in, ops 29/30 out). Only these few structures are needed, so
they are written by hand here; the members themselves are real MLS clients (``davey``).
DAVE protocol version 1 is ciphersuite 2 (P-256, ECDSA-SHA256 signatures) with basic credentials
whose identity is the big-endian 64-bit user id, and the group id is the channel id the same way.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

MLS10 = 1
WIRE_PUBLIC_MESSAGE = 1
SENDER_MEMBER = 1
SENDER_EXTERNAL = 2
CONTENT_PROPOSAL = 2
CONTENT_COMMIT = 3
PROPOSAL_ADD = 1
PROPOSAL_REMOVE = 3
CREDENTIAL_BASIC = 1


def varint(n: int) -> bytes:
    """RFC 9420 section 2.1.2 variable-length integer (the length prefix of every opaque<V>)."""
    if n < 1 << 6:
        return bytes([n])
    if n < 1 << 14:
        return struct.pack(">H", n | 0x4000)
    if n < 1 << 30:
        return struct.pack(">I", n | 0x80000000)
    raise ValueError(f"{n} is too long for an MLS vector")


def opaque(data: bytes) -> bytes:
    return varint(len(data)) + data


class Reader:
    """Walks a TLS-presentation byte string; only to find where a structure ends."""

    def __init__(self, data: bytes, offset: int = 0) -> None:
        self.data = data
        self.offset = offset

    def take(self, n: int) -> bytes:
        if self.offset + n > len(self.data):
            raise ValueError("truncated MLS message")
        chunk = self.data[self.offset : self.offset + n]
        self.offset += n
        return chunk

    def u8(self) -> int:
        return self.take(1)[0]

    def u16(self) -> int:
        return int.from_bytes(self.take(2), "big")

    def u32(self) -> int:
        return int.from_bytes(self.take(4), "big")

    def vector(self) -> bytes:
        first = self.data[self.offset] if self.offset < len(self.data) else 0
        width = 1 << (first >> 6)
        if width == 8:
            raise ValueError("invalid MLS varint")
        length = int.from_bytes(self.take(width), "big") & ((1 << (8 * width - 2)) - 1)
        return self.take(length)


def _skip_leaf_node(r: Reader) -> None:
    r.vector()  # encryption_key
    r.vector()  # signature_key
    if r.u16() == CREDENTIAL_BASIC:
        r.vector()
    else:
        r.vector()  # x509 certificate chain
    for _ in range(5):  # capabilities: versions, ciphersuites, extensions, proposals, credentials
        r.vector()
    source = r.u8()
    if source == 1:
        r.take(16)  # lifetime
    elif source == 3:
        r.vector()  # parent_hash
    r.vector()  # extensions
    r.vector()  # signature


def split_commit_welcome(payload: bytes) -> tuple[bytes, bytes | None]:
    """Op 28 carries an MLSMessage commit followed by an optional bare Welcome; split them."""
    r = Reader(payload)
    if r.u16() != MLS10 or r.u16() != WIRE_PUBLIC_MESSAGE:
        raise ValueError("commit is not an MLS 1.0 PublicMessage")
    r.vector()  # group_id
    r.take(8)  # epoch
    sender_type = r.u8()
    if sender_type in (SENDER_MEMBER, SENDER_EXTERNAL):
        r.u32()
    r.vector()  # authenticated_data
    if r.u8() != CONTENT_COMMIT:
        raise ValueError("op 28 does not start with a commit")
    r.vector()  # proposals (by reference)
    if r.u8():
        _skip_leaf_node(r)
        r.vector()  # path nodes
    r.vector()  # signature
    r.vector()  # confirmation_tag
    if sender_type == SENDER_MEMBER:
        r.vector()  # membership_tag
    welcome = payload[r.offset :]
    return payload[: r.offset], welcome or None


def commit_epoch(commit: bytes) -> int:
    """The epoch a commit was made in (the group moves to the next one)."""
    r = Reader(commit, 4)
    r.vector()
    return int.from_bytes(r.take(8), "big")


@dataclass(frozen=True, slots=True)
class ExternalSender:
    """The voice server's signing identity inside every group (op 25)."""

    key: ec.EllipticCurvePrivateKey

    @classmethod
    def generate(cls) -> ExternalSender:
        return cls(ec.generate_private_key(ec.SECP256R1()))

    def public_bytes(self) -> bytes:
        return self.key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)

    def package(self) -> bytes:
        """ExternalSender {signature_key, credential}: what op 25 carries after its opcode."""
        return opaque(self.public_bytes()) + struct.pack(">H", CREDENTIAL_BASIC) + opaque(b"\x00")

    def _sign(self, label: str, content: bytes) -> bytes:
        sign_content = opaque(f"MLS 1.0 {label}".encode()) + opaque(content)
        return self.key.sign(sign_content, ec.ECDSA(hashes.SHA256()))

    def proposal(self, group_id: bytes, epoch: int, proposal: bytes) -> bytes:
        """An MLSMessage PublicMessage carrying ``proposal``, sent by external sender 0."""
        framed = (
            opaque(group_id) + struct.pack(">Q", epoch) + struct.pack(">BI", SENDER_EXTERNAL, 0)
            + opaque(b"") + bytes([CONTENT_PROPOSAL]) + proposal
        )
        header = struct.pack(">HH", MLS10, WIRE_PUBLIC_MESSAGE)
        return header + framed + opaque(self._sign("FramedContentTBS", header + framed))

    def add(self, group_id: bytes, epoch: int, key_package: bytes) -> bytes:
        return self.proposal(group_id, epoch, struct.pack(">H", PROPOSAL_ADD) + key_package)

    def remove(self, group_id: bytes, epoch: int, leaf_index: int) -> bytes:
        return self.proposal(group_id, epoch, struct.pack(">HI", PROPOSAL_REMOVE, leaf_index))


def proposals_payload(messages: list[bytes]) -> bytes:
    """Op 27 after its opcode: operation type 0 (append), then the proposal messages as one vector."""
    return b"\x00" + opaque(b"".join(messages))


def group_id(channel_id: int) -> bytes:
    return channel_id.to_bytes(8, "big")
