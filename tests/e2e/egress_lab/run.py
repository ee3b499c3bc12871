"""The egress lab scenario: run only inside a fresh ``unshare -rmn`` namespace (it refuses otherwise).

It gives ``lo`` the stand-in addresses of a public host (93.184.215.14), cloud metadata
(169.254.169.254), Oracle's legacy metadata (192.0.0.192) and a LAN host (10.0.0.1), bind-mounts a
private /etc/hosts and /etc/resolv.conf (pointing at :class:`~tests.e2e.egress_lab.dns.LabDns`),
starts the public site and the recording internal listeners, then runs the real bot with the
default URL policy against the loopback Discord and attacks it through ``\\play`` as a member in
voice. Every attack's replies, what the public site served, the internal listeners' hits, the egress
proxy's refusals and the DNS answers are printed as one JSON line prefixed with
:data:`SUMMARY_MARK`; the outer test asserts on it. Nothing here asserts: a finding must reach the
summary, not die in a traceback half-way.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import shutil
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from bot.bot import create_bot
from bot.settings import Settings
from tests.e2e.brent_rig import DJ_ROLE, PREFIX, Member, add_music_guild
from tests.e2e.egress_lab.attack_site import listeners, make_media, routes
from tests.e2e.egress_lab.dns import LabDns
from tests.e2e.egress_lab.evidence import LogCapture
from tests.e2e.egress_lab.lab import EXTRACT_TIMEOUT, Lab, secret_heard_seconds
from tests.e2e.egress_lab.namespace import (
    DNS_HOST,
    ENV_IP,
    METADATA,
    PUBLIC,
    closed_loopback_port,
    require_private_namespace,
    set_up_network,
)
from tests.e2e.egress_lab.public_site import PublicSite
from tests.e2e.egress_lab.servers import HitLog
from tests.fakediscord import FakeDiscord, pointed_at, running

SUMMARY_MARK = "EGRESS_LAB_SUMMARY "


async def scenario(work: Path) -> dict[str, Any]:
    started = time.perf_counter()
    capture = LogCapture()
    for name, level in (
        ("audio.egress_proxy", logging.INFO),
        ("audio.extractor", logging.INFO),
        ("audio.timed_audio", logging.DEBUG),
    ):
        logger = logging.getLogger(name)
        logger.setLevel(min(logger.getEffectiveLevel(), level))
        logger.addHandler(capture)
    media = make_media(work / "media")
    hits = HitLog()
    flip_release = threading.Event()
    site = PublicSite({})
    summary: dict[str, Any] = {"attacks": []}
    with LabDns(DNS_HOST) as dns, listeners(media, hits, site) as loopback_port:
        closed_port = closed_loopback_port()
        site.routes.update(routes(media, dns, loopback_port, closed_port, flip_release))
        for n in range(1, 6):
            dns.sequence(f"rebind{n}.lab", [PUBLIC] * n + [METADATA])
        dns.point("flip.lab", PUBLIC)
        lab = Lab(dns, site, hits, capture)
        summary["lab"] = {"loopback_listener_port": loopback_port, "closed_loopback_port": closed_port}
        try:
            async with FakeDiscord() as fake:
                guild = add_music_guild(fake)
                lab.fake = fake
                lab.alice = Member(fake, guild, guild.member("alice"))
                lab.bob = Member(fake, guild, guild.member("bob"))
                settings = Settings(
                    command_prefix=PREFIX,
                    dj_role=DJ_ROLE,
                    data_dir=work / "data",
                    idle_timeout=600.0,
                    extract_timeout=EXTRACT_TIMEOUT,
                    play_cooldown=(1000, 1.0),
                )
                summary["settings"] = {
                    "allow_private_network": settings.allow_private_network,
                    "extract_timeout": settings.extract_timeout,
                    "extractor_mode": settings.extractor_mode,
                    "ffmpeg_standby": settings.ffmpeg_standby,
                    "extractions_per_guild": settings.extractions_per_guild,
                }
                bot = create_bot(settings, connector=fake.connector(), guild_ready_timeout=0.1)
                lab.bot = bot
                with pointed_at(fake):
                    async with running(bot):
                        bot.player_events.subscribe(lab.watcher)
                        await lab.alice.join_voice()
                        await lab.bob.join_voice()
                        await lab.redirect_by_user_agent()
                        await lab.playlists_behind_mp3()
                        await lab.dns_rebinding(flip_release)
                        await lab.redirect_port_oracle()
                        await lab.worn_out_extractor()
                        summary["final"] = await lab.final_legit_track()
                        summary["secret_heard_seconds"] = secret_heard_seconds(lab)
                        summary["voice_errors"] = fake.voice_log(guild).errors
        except Exception:  # noqa: BLE001  (the summary must still be printed, with what broke)
            summary["crash"] = traceback.format_exc()
        finally:
            flip_release.set()
        summary["attacks"] = lab.attacks
    summary["internal_hits_total"] = [h.as_dict() for h in hits.snapshot() if h.listener != "public"]
    summary["runtime_s"] = round(time.perf_counter() - started, 1)
    return summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.parse_args()
    require_private_namespace()
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(relativeCreated)7.0f %(levelname).1s %(name)s: %(message)s",
    )
    ip = os.environ.get(ENV_IP) or shutil.which("ip") or "/usr/sbin/ip"
    with tempfile.TemporaryDirectory(prefix="egress-lab-") as tmp:
        work = Path(tmp)
        (work / "etc").mkdir()
        set_up_network(ip, work / "etc")
        summary = asyncio.run(scenario(work))
    print(SUMMARY_MARK + json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
