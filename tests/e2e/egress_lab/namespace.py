"""The lab's network: its stand-in addresses, the check that it runs in a private namespace, ``lo`` and /etc set up."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

ENV_OUTSIDE = "BRENT_EGRESS_LAB_OUTSIDE"  # "<netns inode>:<mntns inode>" of the caller, outside
ENV_IP = "BRENT_EGRESS_LAB_IP"

PUBLIC = "93.184.215.14"
METADATA = "169.254.169.254"
ORACLE = "192.0.0.192"
LAN = "10.0.0.1"
LAB_ADDRESSES = (PUBLIC, METADATA, ORACLE, LAN)
DNS_HOST = "127.0.0.53"
LAN_OPEN_PORT = 8080
LAN_CLOSED_PORT = 8081
PUBLIC_CLOSED_PORT = 81

HOSTS = f"""127.0.0.1 localhost
::1 localhost ip6-localhost
{PUBLIC} public.lab
{METADATA} metadata.lab
{LAN} lan.lab
"""
RESOLV_CONF = f"nameserver {DNS_HOST}\noptions timeout:1 attempts:1\n"


def namespace_ids() -> str:
    """The network and mount namespace of this process, as the caller outside records them."""
    return f"{os.stat('/proc/self/ns/net').st_ino}:{os.stat('/proc/self/ns/mnt').st_ino}"


def require_private_namespace() -> None:
    """Refuse to touch ``lo`` or /etc unless both namespaces differ from the caller's: run directly
    on a host, this script would otherwise add addresses to its loopback and cover its /etc/hosts."""
    outside = os.environ.get(ENV_OUTSIDE, "")
    inside = namespace_ids().split(":")
    if len(outside.split(":")) != 2 or any(a == b for a, b in zip(outside.split(":"), inside, strict=True)):
        raise SystemExit(
            f"egress lab: not in a private network+mount namespace ({ENV_OUTSIDE}={outside!r}, here {inside}); "
            "run it through tests/e2e/test_egress_lab.py (unshare -rmn)"
        )


def set_up_network(ip: str, etc_dir: Path) -> None:
    """``lo`` up with the lab's addresses; a private /etc/hosts and /etc/resolv.conf bind-mounted."""
    subprocess.run([ip, "link", "set", "lo", "up"], check=True)
    for address in LAB_ADDRESSES:
        subprocess.run([ip, "addr", "add", f"{address}/32", "dev", "lo"], check=True)
    for name, content in (("hosts", HOSTS), ("resolv.conf", RESOLV_CONF)):
        private = etc_dir / name
        private.write_text(content)
        subprocess.run(["mount", "--bind", str(private), f"/etc/{name}"], check=True)


def closed_loopback_port() -> int:
    """A 127.0.0.1 port nothing listens on (nothing else runs in this namespace to take it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
