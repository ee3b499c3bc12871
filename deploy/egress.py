"""The systemd unit's egress rule: which addresses the bot's processes may not reach.

A second fence behind the bot's own egress gate (audio/egress_proxy.py), for whatever the gate does
not cover. Denied: loopback, the private ranges, CGNAT, link-local (cloud metadata) and IPv6
unique-local. Allowed again, because the bot needs them:

* ``127.0.0.1``: the egress proxy listens there, and every yt-dlp and ffmpeg connection goes through
  it (and a local database often is there). Denying it would stop all playback, so loopback cannot
  be closed by address; only other 127.x and ``::1`` are.
* the resolvers in /etc/resolv.conf that fall in a denied range (a home router, systemd-resolved's
  127.0.0.53), or names would stop resolving;
* the database host of DATABASE_URL, if it is in a denied range (looked up now: run
  ``bin/service install`` again if its address changes).

With ALLOW_PRIVATE_NETWORK=1 the owner wants media from the local network: then no rule at all.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

DENIED: tuple[Network, ...] = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "::/128",
        "::1/128",
        "fc00::/7",
        "fe80::/10",
    )
)
EGRESS_PROXY = ipaddress.ip_address("127.0.0.1")


@dataclass(frozen=True, slots=True)
class EgressRule:
    deny: tuple[Network, ...]
    allow: tuple[Address, ...]
    notes: tuple[str, ...] = ()  # what the installer should tell the owner


def egress_rule(database_url: str, allow_private_network: bool, resolv_conf: str) -> EgressRule:
    if allow_private_network:
        return EgressRule(
            (), (), ("ALLOW_PRIVATE_NETWORK=1: no egress rule, the local network is reachable",)
        )
    allow: list[Address] = [EGRESS_PROXY]
    notes: list[str] = []
    for address in nameservers(resolv_conf):
        if denied(address) and address not in allow:
            allow.append(address)
    host = database_host(database_url)
    if host is not None:
        try:
            addresses = resolve(host)
        except OSError:
            addresses = []
            notes.append(
                f"could not look up the database host {host!r}: if it is on your network, the rule "
                "blocks it; run `bin/service install` again once it resolves"
            )
        allow.extend(a for a in addresses if denied(a) and a not in allow)
    return EgressRule(DENIED, tuple(allow), tuple(notes))


def denied(address: Address) -> bool:
    return any(address in network for network in DENIED)


def nameservers(resolv_conf: str) -> list[Address]:
    found: list[Address] = []
    for line in resolv_conf.splitlines():
        fields = line.split()
        if len(fields) >= 2 and fields[0] == "nameserver":
            try:
                found.append(ipaddress.ip_address(fields[1].split("%")[0]))
            except ValueError:
                continue
    return found


def database_host(database_url: str) -> str | None:
    """The TCP host of a PostgreSQL URL; None for SQLite and Unix sockets."""
    parts = urlsplit(database_url)
    if parts.scheme not in ("postgres", "postgresql") or not parts.hostname:
        return None
    return parts.hostname


def resolve(host: str) -> list[Address]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    return list(dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos))
