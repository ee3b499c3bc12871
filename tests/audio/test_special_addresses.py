"""The special-address table and the refusals built on it, checked range by range.

The expected ranges are written out here by hand, so a row that goes missing from the table (or
changes category) fails a test instead of quietly opening a hole. Everything here is a pure
function of an address: nothing resolves a name or opens a socket.
"""

from __future__ import annotations

import inspect
import ipaddress
import re
from types import ModuleType

import pytest

from audio import special_addresses, url_policy
from audio.special_addresses import (
    METADATA_ENDPOINTS,
    SPECIAL_RANGES,
    Address,
    Category,
    Source,
    classify,
)
from audio.url_policy import MSG_LINK_LOCAL, MSG_LOOPBACK, MSG_NOT_PUBLIC, MSG_PRIVATE, refusal_for_address

LOOPBACK = Category.LOOPBACK
LINK_LOCAL = Category.LINK_LOCAL
PRIVATE = Category.PRIVATE
NOT_PUBLIC = Category.NOT_PUBLIC
EMBEDS_IPV4 = Category.EMBEDS_IPV4

IPV4_REGISTRY: list[tuple[str, Category]] = [
    ("0.0.0.0/8", NOT_PUBLIC),
    ("0.0.0.0/32", NOT_PUBLIC),
    ("10.0.0.0/8", PRIVATE),
    ("100.64.0.0/10", PRIVATE),
    ("127.0.0.0/8", LOOPBACK),
    ("169.254.0.0/16", LINK_LOCAL),
    ("172.16.0.0/12", PRIVATE),
    ("192.0.0.0/24", NOT_PUBLIC),
    ("192.0.0.0/29", NOT_PUBLIC),
    ("192.0.0.8/32", NOT_PUBLIC),
    ("192.0.0.9/32", NOT_PUBLIC),
    ("192.0.0.10/32", NOT_PUBLIC),
    ("192.0.0.170/32", NOT_PUBLIC),
    ("192.0.0.171/32", NOT_PUBLIC),
    ("192.0.2.0/24", NOT_PUBLIC),
    ("192.31.196.0/24", NOT_PUBLIC),
    ("192.52.193.0/24", NOT_PUBLIC),
    ("192.88.99.0/24", NOT_PUBLIC),
    ("192.88.99.2/32", NOT_PUBLIC),
    ("192.168.0.0/16", PRIVATE),
    ("192.175.48.0/24", NOT_PUBLIC),
    ("198.18.0.0/15", NOT_PUBLIC),
    ("198.51.100.0/24", NOT_PUBLIC),
    ("203.0.113.0/24", NOT_PUBLIC),
    ("240.0.0.0/4", NOT_PUBLIC),
    ("255.255.255.255/32", NOT_PUBLIC),
]

IPV6_REGISTRY: list[tuple[str, Category]] = [
    ("::1/128", LOOPBACK),
    ("::/128", NOT_PUBLIC),
    ("::ffff:0:0/96", EMBEDS_IPV4),
    ("64:ff9b::/96", EMBEDS_IPV4),
    ("64:ff9b:1::/48", NOT_PUBLIC),
    ("100::/64", NOT_PUBLIC),
    ("100:0:0:1::/64", NOT_PUBLIC),
    ("2001::/23", NOT_PUBLIC),
    ("2001::/32", NOT_PUBLIC),
    ("2001:1::1/128", NOT_PUBLIC),
    ("2001:1::2/128", NOT_PUBLIC),
    ("2001:1::3/128", NOT_PUBLIC),
    ("2001:2::/48", NOT_PUBLIC),
    ("2001:3::/32", NOT_PUBLIC),
    ("2001:4:112::/48", NOT_PUBLIC),
    ("2001:10::/28", NOT_PUBLIC),
    ("2001:20::/28", NOT_PUBLIC),
    ("2001:30::/28", NOT_PUBLIC),
    ("2001:db8::/32", NOT_PUBLIC),
    ("2002::/16", NOT_PUBLIC),
    ("2620:4f:8000::/48", NOT_PUBLIC),
    ("3fff::/20", NOT_PUBLIC),
    ("5f00::/16", NOT_PUBLIC),
    ("fc00::/7", PRIVATE),
    ("fe80::/10", LINK_LOCAL),
]

BEYOND_REGISTRIES: list[tuple[str, Category]] = [
    ("224.0.0.0/4", NOT_PUBLIC),
    ("ff00::/8", NOT_PUBLIC),
    ("fec0::/10", NOT_PUBLIC),
    ("::/96", NOT_PUBLIC),
    ("::ffff:0:0:0/96", NOT_PUBLIC),
    ("::/3", NOT_PUBLIC),
    ("4000::/2", NOT_PUBLIC),
    ("8000::/1", NOT_PUBLIC),
]

EXPECTED: list[tuple[str, Category]] = IPV4_REGISTRY + IPV6_REGISTRY + BEYOND_REGISTRIES

METADATA: list[str] = [
    "169.254.169.254",
    "169.254.170.2",
    "169.254.170.23",
    "fd00:ec2::254",
    "fd00:ec2::23",
    "100.100.100.200",
    "192.0.0.192",
]

MESSAGES = {
    LOOPBACK: MSG_LOOPBACK,
    LINK_LOCAL: MSG_LINK_LOCAL,
    PRIVATE: MSG_PRIVATE,
    NOT_PUBLIC: MSG_NOT_PUBLIC,
}
LAN = {LOOPBACK, LINK_LOCAL, PRIVATE}
BOTH = pytest.mark.parametrize("allow", [False, True], ids=["default", "allow_private"])


def ip(text: str) -> Address:
    return ipaddress.ip_address(text)


def rows(source: Source | None = None) -> set[tuple[str, Category]]:
    return {(str(r.network), r.category) for r in SPECIAL_RANGES if source is None or r.source is source}


def test_table_holds_exactly_the_expected_ranges() -> None:
    assert len(EXPECTED) == len(set(EXPECTED))
    assert len(SPECIAL_RANGES) == len(EXPECTED)
    assert rows() == set(EXPECTED)


def test_the_registries_are_transcribed_whole() -> None:
    assert rows(Source.IPV4_SPECIAL) == set(IPV4_REGISTRY)
    assert rows(Source.IPV6_SPECIAL) == set(IPV6_REGISTRY)


def test_every_row_names_its_registry_entry_and_rfc() -> None:
    for entry in SPECIAL_RANGES:
        assert entry.name.strip() and entry.rfc.startswith("RFC "), entry


def test_metadata_endpoints_are_the_expected_ones() -> None:
    assert sorted(str(e.address) for e in METADATA_ENDPOINTS) == sorted(METADATA)
    assert all(e.provider and e.source.startswith("https://") for e in METADATA_ENDPOINTS)


def expected_at_an_end(category: Category, allow: bool) -> str | None:
    if category is EMBEDS_IPV4:
        return MSG_NOT_PUBLIC  # the ends embed 0.0.0.0 and 255.255.255.255
    if allow and category in LAN:
        return None
    return MESSAGES[category]


@BOTH
@pytest.mark.parametrize(("network", "category"), EXPECTED, ids=[n for n, _ in EXPECTED])
def test_first_and_last_address_of_every_range(network: str, category: Category, allow: bool) -> None:
    net = ipaddress.ip_network(network)
    expected = expected_at_an_end(category, allow)
    for end in (net.network_address, net.broadcast_address):
        assert refusal_for_address(end, allow_private_network=allow) == expected, end


def same_family(version: int, value: int) -> Address | None:
    """The address ``value`` of that IP version, or None past either end of its space."""
    if value < 0 or value >= 2 ** (32 if version == 4 else 128):
        return None
    return ipaddress.IPv4Address(value) if version == 4 else ipaddress.IPv6Address(value)


def just_outside(network: str) -> list[Address]:
    """The neighbours of a range's two ends that are ordinary public space (in no listed range)."""
    net = ipaddress.ip_network(network)
    listed = [ipaddress.ip_network(other) for other, _ in EXPECTED]
    found: list[Address] = []
    for value in (int(net.network_address) - 1, int(net.broadcast_address) + 1):
        address = same_family(net.version, value)
        if address is not None and not any(o.version == net.version and address in o for o in listed):
            found.append(address)
    return found


@BOTH
@pytest.mark.parametrize("network", [n for n, _ in EXPECTED])
def test_the_address_just_outside_each_end_is_public(network: str, allow: bool) -> None:
    for address in just_outside(network):
        assert refusal_for_address(address, allow_private_network=allow) is None, address


def test_there_are_public_neighbours_to_check() -> None:
    neighbours = {a for n, _ in EXPECTED for a in just_outside(n)}
    assert len(neighbours) >= 30
    assert ip("9.255.255.255") in neighbours and ip("2001:200::") in neighbours


def same_version_and_inside(address: Address, network: special_addresses.Network) -> bool:
    return network.version == address.version and address in network


def probe_addresses() -> list[Address]:
    probes: list[Address] = []
    for network, _ in EXPECTED:
        net = ipaddress.ip_network(network)
        for value in (int(net.network_address), int(net.broadcast_address)):
            for near in (value - 1, value, value + 1):
                address = same_family(net.version, near)
                if address is not None:
                    probes.append(address)
    return probes


def test_classify_picks_the_longest_containing_range() -> None:
    """The integer lookup agrees with plain containment over the table, for every end and neighbour."""
    for address in probe_addresses():
        containing = [r for r in SPECIAL_RANGES if same_version_and_inside(address, r.network)]
        expected = max(containing, key=lambda r: r.network.prefixlen) if containing else None
        assert classify(address) == expected, address


@pytest.mark.parametrize(
    ("address", "network", "name"),
    [
        ("0.0.0.0", "0.0.0.0/32", '"This host on this network"'),
        ("0.0.0.1", "0.0.0.0/8", '"This network"'),
        ("192.0.0.9", "192.0.0.9/32", "Port Control Protocol Anycast"),
        ("192.0.0.192", "192.0.0.0/24", "IETF Protocol Assignments"),
        ("192.88.99.2", "192.88.99.2/32", "6a44-relay anycast address"),
        ("2001::1", "2001::/32", "TEREDO"),
        ("2001:1::3", "2001:1::3/128", "DNS-SD Service Registration Protocol Anycast"),
        ("2001:1::4", "2001::/23", "IETF Protocol Assignments"),
        ("::1", "::1/128", "Loopback Address"),
        ("::2", "::/96", "IPv4-Compatible IPv6 Address (deprecated)"),
        ("::1:0:0:0", "::/3", "Reserved by IETF"),
    ],
)
def test_nested_ranges_resolve_to_the_most_specific_row(address: str, network: str, name: str) -> None:
    entry = classify(ip(address))
    assert entry is not None
    assert (str(entry.network), entry.name) == (network, name)


@pytest.mark.parametrize(
    "address", ["8.8.8.8", "1.1.1.1", "93.184.215.14", "2606:4700:4700::1111", "2a00:1450:4001::1"]
)
@BOTH
def test_ordinary_public_addresses_pass(address: str, allow: bool) -> None:
    assert classify(ip(address)) is None
    assert refusal_for_address(ip(address), allow_private_network=allow) is None


@pytest.mark.parametrize("address", ["192.0.0.192", "64:ff9b:1::1", "::7f00:1", "::ffff:0:a00:1", "fec0::1"])
@BOTH
def test_ranges_python_builds_let_through_are_refused(address: str, allow: bool) -> None:
    assert refusal_for_address(ip(address), allow_private_network=allow) == MSG_NOT_PUBLIC


@pytest.mark.parametrize("address", ["0.0.0.0", "::", "::ffff:0.0.0.0", "64:ff9b::"])
@BOTH
def test_unspecified_addresses_are_always_refused(address: str, allow: bool) -> None:
    assert refusal_for_address(ip(address), allow_private_network=allow) == MSG_NOT_PUBLIC


@pytest.mark.parametrize(
    "address", ["4000::1", "1000::1", "c000::1", "fe00::1", "620:4f:8000::1", "::1:2:3:4"]
)
@BOTH
def test_ipv6_outside_global_unicast_is_refused(address: str, allow: bool) -> None:
    assert refusal_for_address(ip(address), allow_private_network=allow) == MSG_NOT_PUBLIC


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("169.254.169.254", MSG_LINK_LOCAL),
        ("169.254.170.2", MSG_LINK_LOCAL),
        ("169.254.170.23", MSG_LINK_LOCAL),
        ("fd00:ec2::254", MSG_PRIVATE),
        ("fd00:ec2::23", MSG_PRIVATE),
        ("100.100.100.200", MSG_PRIVATE),
        ("192.0.0.192", MSG_NOT_PUBLIC),
        ("::ffff:169.254.169.254", MSG_LINK_LOCAL),
        ("64:ff9b::a9fe:a9fe", MSG_LINK_LOCAL),
        ("::ffff:100.100.100.200", MSG_PRIVATE),
        ("64:ff9b::a9fe:aa17", MSG_LINK_LOCAL),
    ],
)
@BOTH
def test_metadata_endpoints_are_refused_even_on_a_trusted_lan(
    address: str, message: str, allow: bool
) -> None:
    assert refusal_for_address(ip(address), allow_private_network=allow) == message


@pytest.mark.parametrize(
    "address",
    [
        "169.254.1.1",
        "169.254.169.253",
        "169.254.169.255",
        "169.254.170.1",
        "169.254.170.3",
        "169.254.170.22",
        "fe80::1",
        "fd00:ec2::1",
        "fd00:ec2::255",
        "100.100.100.199",
        "100.100.100.201",
        "::ffff:169.254.1.1",
    ],
)
def test_other_link_local_and_lan_addresses_pass_with_allow_private_network(address: str) -> None:
    assert refusal_for_address(ip(address), allow_private_network=True) is None
    assert refusal_for_address(ip(address)) in {MSG_LINK_LOCAL, MSG_PRIVATE}


@pytest.mark.parametrize(
    "address", ["::ffff:8.8.8.8", "::ffff:93.184.215.14", "64:ff9b::808:808", "64:ff9b::101:101"]
)
@BOTH
def test_mapped_and_nat64_forms_of_public_ipv4_pass(address: str, allow: bool) -> None:
    assert refusal_for_address(ip(address), allow_private_network=allow) is None


@pytest.mark.parametrize(
    ("address", "message", "with_allow"),
    [
        ("::ffff:10.0.0.1", MSG_PRIVATE, None),
        ("64:ff9b::c0a8:101", MSG_PRIVATE, None),
        ("::ffff:100.64.0.1", MSG_PRIVATE, None),
        ("::ffff:127.0.0.1", MSG_LOOPBACK, None),
        ("64:ff9b::7f00:1", MSG_LOOPBACK, None),
        ("::ffff:192.0.2.1", MSG_NOT_PUBLIC, MSG_NOT_PUBLIC),
        ("64:ff9b::c000:9", MSG_NOT_PUBLIC, MSG_NOT_PUBLIC),
        ("::ffff:224.0.0.1", MSG_NOT_PUBLIC, MSG_NOT_PUBLIC),
    ],
)
def test_mapped_and_nat64_forms_are_judged_by_the_ipv4_inside(
    address: str, message: str, with_allow: str | None
) -> None:
    assert refusal_for_address(ip(address)) == message
    assert refusal_for_address(ip(address), allow_private_network=True) == with_allow


@pytest.mark.parametrize(
    "address",
    [
        "2002:808:808::1",
        "2002:101:101::",
        "2002:c0a8:101::1",
        "2001:0:808:808::1",
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",
    ],
)
@BOTH
def test_6to4_and_teredo_are_refused_without_decoding(address: str, allow: bool) -> None:
    assert refusal_for_address(ip(address), allow_private_network=allow) == MSG_NOT_PUBLIC


_BUILD_DEPENDENT = (
    r"\.(is_global|is_private|is_loopback|is_link_local|is_reserved|is_multicast|is_unspecified"
    r"|is_site_local|ipv4_mapped|sixtofour|teredo)\b"
)


@pytest.mark.parametrize("module", [special_addresses, url_policy])
def test_no_verdict_comes_from_ipaddress_tables(module: ModuleType) -> None:
    """Those tables differ between Python builds; the verdict must not."""
    source = inspect.getsource(module)
    assert re.findall(_BUILD_DEPENDENT, source) == []
