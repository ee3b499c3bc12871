"""Which IP addresses are special, spelled out instead of borrowed from ``ipaddress``.

``ipaddress``'s ``is_global``/``is_private``/``is_loopback`` tables differ between Python builds
(3.11.7 calls 192.0.0.0/24 and 64:ff9b:1::/48 global; no build counts ::/96, ::ffff:0:0:0/96 or
fec0::/10 as non-global), so what the bot may connect to would depend on the interpreter. This table
does not: it is the IANA IPv4 and IPv6 Special-Purpose Address Registries, both as last updated
2025-10-09, plus the few ranges those registries leave to other documents (multicast, the IPv4
embedding forms, deprecated site-local, and everything outside IPv6 global unicast 2000::/3).
The rows follow https://www.iana.org/assignments/iana-ipv4-special-registry/ and
https://www.iana.org/assignments/iana-ipv6-special-registry/; they were transcribed from memory and
cross-checked against third-party copies of those revisions, not against iana.org itself, so
compare them with the live registries when refreshing the table.

Anything not in the table is ordinary public unicast. Where ranges nest, the longest prefix wins.
"""

from __future__ import annotations

import enum
import ipaddress
from dataclasses import dataclass

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class Category(enum.Enum):
    """What a special range means for a bot that fetches media; decides the refusal message."""

    LOOPBACK = "loopback"
    LINK_LOCAL = "link-local"
    PRIVATE = "private"  # a LAN: RFC 1918, CGNAT, unique-local
    NOT_PUBLIC = "not public"  # every other special range, even "globally reachable" service blocks
    EMBEDS_IPV4 = "embeds ipv4"  # means the IPv4 in its low 32 bits; judge that instead


class Source(enum.Enum):
    """The IANA registry (or, for ranges no registry lists, the RFC) an entry comes from."""

    IPV4_SPECIAL = "IANA IPv4 Special-Purpose Address Registry"
    IPV6_SPECIAL = "IANA IPv6 Special-Purpose Address Registry"
    IPV4_ADDRESS_SPACE = "IANA IPv4 Address Space Registry"
    IPV6_ADDRESS_SPACE = "IANA Internet Protocol Version 6 Address Space"
    RFC_ONLY = "RFC only"


@dataclass(frozen=True, slots=True)
class SpecialRange:
    """One row: ``name`` as the registry writes it, so a reader can find the row there."""

    network: Network
    name: str
    rfc: str
    category: Category
    source: Source


@dataclass(frozen=True, slots=True)
class MetadataEndpoint:
    """A cloud instance-metadata address: it hands out credentials, so no setting admits it."""

    address: Address
    provider: str
    source: str


def _v4(network: str, name: str, rfc: str, category: Category = Category.NOT_PUBLIC) -> SpecialRange:
    return SpecialRange(ipaddress.ip_network(network), name, rfc, category, Source.IPV4_SPECIAL)


def _v6(network: str, name: str, rfc: str, category: Category = Category.NOT_PUBLIC) -> SpecialRange:
    return SpecialRange(ipaddress.ip_network(network), name, rfc, category, Source.IPV6_SPECIAL)


def _other(network: str, name: str, rfc: str, source: Source) -> SpecialRange:
    return SpecialRange(ipaddress.ip_network(network), name, rfc, Category.NOT_PUBLIC, source)


SPECIAL_RANGES: tuple[SpecialRange, ...] = (
    _v4("0.0.0.0/8", '"This network"', "RFC 791, Section 3.2"),
    _v4("0.0.0.0/32", '"This host on this network"', "RFC 1122, Section 3.2.1.3"),
    _v4("10.0.0.0/8", "Private-Use", "RFC 1918", Category.PRIVATE),
    _v4("100.64.0.0/10", "Shared Address Space", "RFC 6598", Category.PRIVATE),
    _v4("127.0.0.0/8", "Loopback", "RFC 1122, Section 3.2.1.3", Category.LOOPBACK),
    _v4("169.254.0.0/16", "Link Local", "RFC 3927", Category.LINK_LOCAL),
    _v4("172.16.0.0/12", "Private-Use", "RFC 1918", Category.PRIVATE),
    _v4("192.0.0.0/24", "IETF Protocol Assignments", "RFC 6890, Section 2.1"),
    _v4("192.0.0.0/29", "IPv4 Service Continuity Prefix", "RFC 7335"),
    _v4("192.0.0.8/32", "IPv4 dummy address", "RFC 7600"),
    _v4("192.0.0.9/32", "Port Control Protocol Anycast", "RFC 7723"),
    _v4("192.0.0.10/32", "Traversal Using Relays around NAT Anycast", "RFC 8155"),
    _v4("192.0.0.170/32", "NAT64/DNS64 Discovery", "RFC 8880, RFC 7050, Section 2.2"),
    _v4("192.0.0.171/32", "NAT64/DNS64 Discovery", "RFC 8880, RFC 7050, Section 2.2"),
    _v4("192.0.2.0/24", "Documentation (TEST-NET-1)", "RFC 5737"),
    _v4("192.31.196.0/24", "AS112-v4", "RFC 7535"),
    _v4("192.52.193.0/24", "AMT", "RFC 7450"),
    _v4("192.88.99.0/24", "Deprecated (6to4 Relay Anycast)", "RFC 7526"),
    _v4("192.88.99.2/32", "6a44-relay anycast address", "RFC 6751"),
    _v4("192.168.0.0/16", "Private-Use", "RFC 1918", Category.PRIVATE),
    _v4("192.175.48.0/24", "Direct Delegation AS112 Service", "RFC 7534"),
    _v4("198.18.0.0/15", "Benchmarking", "RFC 2544"),
    _v4("198.51.100.0/24", "Documentation (TEST-NET-2)", "RFC 5737"),
    _v4("203.0.113.0/24", "Documentation (TEST-NET-3)", "RFC 5737"),
    _v4("240.0.0.0/4", "Reserved", "RFC 1112, Section 4"),
    _v4("255.255.255.255/32", "Limited Broadcast", "RFC 8190, RFC 919, Section 7"),
    _other("224.0.0.0/4", "Multicast", "RFC 5771", Source.IPV4_ADDRESS_SPACE),
    _v6("::1/128", "Loopback Address", "RFC 4291", Category.LOOPBACK),
    _v6("::/128", "Unspecified Address", "RFC 4291"),
    _v6("::ffff:0:0/96", "IPv4-mapped Address", "RFC 4291", Category.EMBEDS_IPV4),
    _v6("64:ff9b::/96", "IPv4-IPv6 Translat.", "RFC 6052", Category.EMBEDS_IPV4),
    _v6("64:ff9b:1::/48", "IPv4-IPv6 Translat.", "RFC 8215"),
    _v6("100::/64", "Discard-Only Address Block", "RFC 6666"),
    _v6("100:0:0:1::/64", "Dummy IPv6 Prefix", "RFC 9780"),
    _v6("2001::/23", "IETF Protocol Assignments", "RFC 2928"),
    _v6("2001::/32", "TEREDO", "RFC 4380, RFC 8190"),
    _v6("2001:1::1/128", "Port Control Protocol Anycast", "RFC 7723"),
    _v6("2001:1::2/128", "Traversal Using Relays around NAT Anycast", "RFC 8155"),
    _v6("2001:1::3/128", "DNS-SD Service Registration Protocol Anycast", "RFC 9665"),
    _v6("2001:2::/48", "Benchmarking", "RFC 5180, RFC Errata 1752"),
    _v6("2001:3::/32", "AMT", "RFC 7450"),
    _v6("2001:4:112::/48", "AS112-v6", "RFC 7535"),
    _v6("2001:10::/28", "Deprecated (previously ORCHID)", "RFC 4843"),
    _v6("2001:20::/28", "ORCHIDv2", "RFC 7343"),
    _v6("2001:30::/28", "Drone Remote ID Protocol Entity Tags (DETs) Prefix", "RFC 9374"),
    _v6("2001:db8::/32", "Documentation", "RFC 3849"),
    _v6("2002::/16", "6to4", "RFC 3056"),
    _v6("2620:4f:8000::/48", "Direct Delegation AS112 Service", "RFC 7534"),
    _v6("3fff::/20", "Documentation", "RFC 9637"),
    _v6("5f00::/16", "Segment Routing (SRv6) SIDs", "RFC 9602"),
    _v6("fc00::/7", "Unique-Local", "RFC 4193, RFC 8190", Category.PRIVATE),
    _v6("fe80::/10", "Link-Local Unicast", "RFC 4291", Category.LINK_LOCAL),
    _other("ff00::/8", "Multicast", "RFC 4291", Source.IPV6_ADDRESS_SPACE),
    _other("fec0::/10", "Reserved by IETF (deprecated Site-Local)", "RFC 3879", Source.IPV6_ADDRESS_SPACE),
    _other(
        "::/96", "IPv4-Compatible IPv6 Address (deprecated)", "RFC 4291, Section 2.5.5.1", Source.RFC_ONLY
    ),
    _other("::ffff:0:0:0/96", "IPv4-translated address", "RFC 2765, Section 2.1", Source.RFC_ONLY),
    # The complement of Global Unicast 2000::/3: nothing public is allocated there.
    _other("::/3", "Reserved by IETF", "RFC 4291", Source.IPV6_ADDRESS_SPACE),
    _other("4000::/2", "Reserved by IETF", "RFC 4291", Source.IPV6_ADDRESS_SPACE),
    _other("8000::/1", "Reserved by IETF", "RFC 4291", Source.IPV6_ADDRESS_SPACE),
)

METADATA_ENDPOINTS: tuple[MetadataEndpoint, ...] = (
    MetadataEndpoint(
        ipaddress.IPv4Address("169.254.169.254"),
        "AWS EC2 IMDS (also GCP, Azure, OpenStack, DigitalOcean, Oracle Cloud)",
        "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instancedata-data-retrieval.html",
    ),
    MetadataEndpoint(
        ipaddress.IPv6Address("fd00:ec2::254"),
        "AWS EC2 IMDS over IPv6",
        "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instancedata-data-retrieval.html",
    ),
    MetadataEndpoint(
        ipaddress.IPv4Address("169.254.170.2"),
        "AWS ECS task metadata and credentials",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html",
    ),
    MetadataEndpoint(
        ipaddress.IPv4Address("169.254.170.23"),
        "AWS EKS Pod Identity Agent",
        "https://docs.aws.amazon.com/eks/latest/userguide/pod-id-how-it-works.html",
    ),
    MetadataEndpoint(
        ipaddress.IPv6Address("fd00:ec2::23"),
        "AWS EKS Pod Identity Agent over IPv6",
        "https://docs.aws.amazon.com/eks/latest/userguide/pod-id-how-it-works.html",
    ),
    MetadataEndpoint(
        ipaddress.IPv4Address("100.100.100.200"),
        "Alibaba Cloud ECS instance metadata",
        "https://www.alibabacloud.com/help/en/ecs/user-guide/view-instance-metadata",
    ),
    MetadataEndpoint(
        ipaddress.IPv4Address("192.0.0.192"),
        "Oracle Cloud legacy instance metadata",
        "https://docs.oracle.com/en-us/iaas/Content/Compute/Tasks/gettingmetadata.htm",
    ),
)

_METADATA_KEYS = frozenset((e.address.version, int(e.address)) for e in METADATA_ENDPOINTS)


def _bits(version: int) -> int:
    return 32 if version == 4 else 128


def _build_index() -> dict[int, tuple[tuple[int, dict[int, SpecialRange]], ...]]:
    """Per IP version, the table as (prefix length, {leading bits: range}), longest prefix first."""
    by_version: dict[int, dict[int, dict[int, SpecialRange]]] = {4: {}, 6: {}}
    for entry in SPECIAL_RANGES:
        network = entry.network
        shift = _bits(network.version) - network.prefixlen
        bucket = by_version[network.version].setdefault(network.prefixlen, {})
        key = int(network.network_address) >> shift
        if key in bucket:
            raise ValueError(f"{network} is listed twice")
        bucket[key] = entry
    return {
        version: tuple(sorted(lengths.items(), key=lambda item: item[0], reverse=True))
        for version, lengths in by_version.items()
    }


_INDEX = _build_index()


def classify(address: Address) -> SpecialRange | None:
    """The most specific special range holding ``address``; None for ordinary public unicast."""
    bits = _bits(address.version)
    value = int(address)
    for prefixlen, bucket in _INDEX[address.version]:
        entry = bucket.get(value >> (bits - prefixlen))
        if entry is not None:
            return entry
    return None


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address:
    """The IPv4 address an EMBEDS_IPV4 form stands for (both such prefixes are /96)."""
    return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)


def is_metadata_endpoint(address: Address) -> bool:
    """True for a cloud metadata address, which stays refused even on a trusted LAN."""
    return (address.version, int(address)) in _METADATA_KEYS
