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
import contextlib
import dataclasses
import json
import logging
import math
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

from audio.events import PlayerEvent, TrackEnded
from bot.bot import BrentBot, create_bot
from bot.settings import Settings
from tests.e2e.egress_lab.dns import LabDns
from tests.e2e.egress_lab.servers import (
    Audio,
    CutMidStream,
    Document,
    Drip,
    HitLog,
    MediaClientRedirect,
    PublicSite,
    Redirect,
    Route,
    internal_listener,
    public_site,
)
from tests.e2e.test_scenarios import DJ_ROLE, PREFIX, Member, add_music_guild
from tests.fakediscord import FakeDiscord, InjectedMessage, WaitTimeout, message_text, pointed_at, running
from tests.fakediscord import wait_for_bot as wait_for_bot_state
from tests.media import generate_tone

log = logging.getLogger("egress_lab")

ENV_OUTSIDE = "BRENT_EGRESS_LAB_OUTSIDE"  # "<netns inode>:<mntns inode>" of the caller, outside
ENV_IP = "BRENT_EGRESS_LAB_IP"
SUMMARY_MARK = "EGRESS_LAB_SUMMARY "

PUBLIC = "93.184.215.14"
METADATA = "169.254.169.254"
ORACLE = "192.0.0.192"
LAN = "10.0.0.1"
LAB_ADDRESSES = (PUBLIC, METADATA, ORACLE, LAN)
DNS_HOST = "127.0.0.53"
LAN_OPEN_PORT = 8080
LAN_CLOSED_PORT = 8081
PUBLIC_CLOSED_PORT = 81

TONE_HZ = 440.0
FINAL_HZ = 660.0
LONG_HZ = 550.0
SECRET_HZ = 1000.0  # what every internal listener serves: heard in voice only if something leaked
TONE_SECONDS = 5.0  # longer than the player's 3 s pre-start lead, so the next track is pre-started
FINAL_SECONDS = 3.0
LONG_SECONDS = 8.0
EXTRACT_TIMEOUT = 5.0  # small, so the drip attack costs seconds; ample for lookups on this machine
DRIP_INTERVAL = 2.0
ATTACK_TIMEOUT = 40.0  # one attack, from the command to the end of its track

HOSTS = f"""127.0.0.1 localhost
::1 localhost ip6-localhost
{PUBLIC} public.lab
{METADATA} metadata.lab
{LAN} lan.lab
"""
RESOLV_CONF = f"nameserver {DNS_HOST}\noptions timeout:1 attempts:1\n"


# -- the namespace ---------------------------------------------------------------------------------


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


# -- what the bot does, as evidence ---------------------------------------------------------------


class LogCapture(logging.Handler):
    """The egress proxy's refusals, the extractor's failures (a policy refusal inside a lookup or a
    measurement) and TimedAudio's spawn lines (standby or fresh), in order."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self._lock_records = threading.Lock()
        self.lines: list[tuple[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        with self._lock_records:
            self.lines.append((record.name, record.getMessage()))

    def snapshot(self) -> list[tuple[str, str]]:
        with self._lock_records:
            return list(self.lines)


@dataclasses.dataclass(frozen=True)
class Ended:
    """How a track left the player, and the failure the member was told about (if any)."""

    url: str
    title: str
    reason: str
    user_message: str | None
    detail: str | None


class EndWatcher:
    """A subscriber after the announcer: when it hears a track end, the "Skipped" reply (if any)
    has already been posted, because subscribers are called one after the other."""

    def __init__(self) -> None:
        self.ended: list[Ended] = []
        self._changed = asyncio.Condition()

    async def __call__(self, event: PlayerEvent) -> None:
        if not isinstance(event, TrackEnded):
            return
        track, error = event.track, event.error
        async with self._changed:
            self.ended.append(Ended(track.page_url, track.title, event.reason.value,
                                    getattr(error, "user_message", None), None if error is None else str(error)))
            self._changed.notify_all()

    def mark(self) -> int:
        return len(self.ended)

    async def wait_for_ends(self, mark: int, count: int, timeout: float) -> list[Ended]:
        """The first ``count`` track ends heard since ``mark`` (by order: a redirect may change a
        track's page URL, so the URL typed cannot always identify it)."""
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: len(self.ended) >= mark + count)
            return self.ended[mark : mark + count]


@dataclasses.dataclass
class Marks:
    """Lengths of every evidence log when an attack began: what came after is that attack's."""

    hits: int
    served: int
    dns: int
    logs: int


# -- the scenario -----------------------------------------------------------------------------------


class Lab:
    """Everything one scenario run holds: listeners, DNS, the fake Discord, the bot and its member."""

    def __init__(self, dns: LabDns, site: PublicSite, hits: HitLog, capture: LogCapture) -> None:
        self.dns = dns
        self.site = site
        self.hits = hits
        self.capture = capture
        self.watcher = EndWatcher()
        self.attacks: list[dict[str, Any]] = []
        self.fake: FakeDiscord
        self.bot: BrentBot
        self.alice: Member  # the DJ who plays every attack
        self.bob: Member  # the second member of the two-at-once drips

    def marks(self) -> Marks:
        return Marks(len(self.hits), len(self.site.snapshot()), len(self.dns.snapshot()), len(self.capture.snapshot()))

    def evidence_since(self, mark: Marks) -> dict[str, Any]:
        logs = self.capture.snapshot()[mark.logs :]
        spawns = [message for name, message in logs if name == "audio.timed_audio" and " started at " in message]
        return {
            "internal_hits": [h.as_dict() for h in self.hits.snapshot()[mark.hits :] if h.listener != "public"],
            "served": [s.as_dict() for s in self.site.snapshot()[mark.served :]],
            "proxy_refusals": [m for name, m in logs if name == "audio.egress_proxy" and "refused" in m],
            "extractor_failures": [m for name, m in logs if name.startswith("audio.extractor") and "fail" in m],
            "dns": [{"name": q.name, "qtype": q.qtype, "answer": q.answer} for q in self.dns.snapshot()[mark.dns :]],
            "ffmpeg_spawns": {
                "standby": sum(s.endswith("(standby)") for s in spawns),
                "fresh": sum(s.endswith("(fresh)") for s in spawns),
            },
        }

    def replies_after(self, sent: InjectedMessage) -> list[str]:
        channel = self.alice.guild.text_channel
        return [message_text(m) for m in self.fake.bot_messages(channel, after=sent)]

    async def command_reply(self, sent: InjectedMessage, timeout: float = ATTACK_TIMEOUT) -> str:
        """The first answer after the command. Attacks run one at a time (each waits for the player
        to be idle), so a "Skipped" line here is this track's: it failed while being measured,
        before a "Playing" reply, and the announcer's line is the answer."""
        reply = await self.fake.wait_for_message(self.alice.guild.text_channel, "", timeout, after=sent)
        return message_text(reply)

    async def idle(self, timeout: float = ATTACK_TIMEOUT) -> None:
        """Until the player has no track and an empty queue (every attack track ended)."""
        def idle() -> bool:
            player = self.bot.players.get(self.alice.guild.id)
            return player is None or (player.current is None and len(player.queue) == 0)

        await wait_for_bot_state(idle, timeout, "the player to be idle")

    async def attack(
        self, group: str, name: str, url: str,
        during: Callable[[InjectedMessage], Awaitable[None]] | None = None,
    ) -> dict[str, Any]:
        """``\\play url``; if the track got in, wait for it to end (``during`` runs meanwhile)."""
        mark, started, ends = self.marks(), time.perf_counter(), self.watcher.mark()
        entry: dict[str, Any] = {"group": group, "name": name, "url": url}
        sent = await self.alice.say(f"play {url}")
        try:
            reply = await self.command_reply(sent)
            if reply.startswith(("Playing", "Queued", "Skipped")):
                if during is not None and not reply.startswith("Skipped"):
                    await during(sent)
                [ended] = await self.watcher.wait_for_ends(ends, 1, ATTACK_TIMEOUT)
                entry["track_end"] = dataclasses.asdict(ended)
            await self.idle()
        except (WaitTimeout, TimeoutError) as exc:
            entry["error"] = f"timed out: {exc}"
        entry["replies"] = self.replies_after(sent)
        entry |= self.evidence_since(mark)
        entry["seconds"] = round(time.perf_counter() - started, 2)
        self.attacks.append(entry)
        log.info("attack %s/%s: %s", group, name, json.dumps(entry)[:2000])
        return entry

    # -- the attacks -------------------------------------------------------------------------------

    async def redirect_by_user_agent(self) -> None:
        group = "1 redirect by user agent"
        recorder = self.fake.voice_log(self.alice.guild)
        # A legitimate track first, with the attack queued behind it: the player pre-starts the
        # attack's ffmpeg (from the standby) a few seconds before the tone ends.
        mark, started, ends = self.marks(), time.perf_counter(), self.watcher.mark()
        entry: dict[str, Any] = {"group": group, "name": "metadata, pre-started behind a tone (standby path)"}
        tone_url, attack_url = "http://public.lab/tone.mp3", "http://public.lab/ua-metadata.mp3"
        entry["url"] = attack_url
        tone = await self.alice.say(f"play {tone_url}")
        try:
            entry["tone_reply"] = await self.command_reply(tone)
            queued = await self.alice.say(f"play {attack_url}")
            entry["attack_reply"] = await self.command_reply(queued)
            tone_end, attack_end = await self.watcher.wait_for_ends(ends, 2, ATTACK_TIMEOUT)
            entry["tone_end"], entry["track_end"] = dataclasses.asdict(tone_end), dataclasses.asdict(attack_end)
            await self.idle()
        except (WaitTimeout, TimeoutError) as exc:
            entry["error"] = f"timed out: {exc}"
        entry["replies"] = self.replies_after(tone)
        entry["baseline"] = {
            "audio_seconds": round(recorder.audio_seconds(after=tone.sent_at), 2),
            "dominant_hz": _rounded(recorder.dominant_frequency(0.2, TONE_SECONDS - 0.5, after=tone.sent_at)),
        }
        entry |= self.evidence_since(mark)
        entry["seconds"] = round(time.perf_counter() - started, 2)
        self.attacks.append(entry)

        for name, path in (
            ("oracle legacy metadata", "/ua-oracle.mp3"),
            ("LAN host", "/ua-lan.mp3"),
            ("internal loopback port", "/ua-loopback.mp3"),
            ("metadata by a hosts-file name", "/ua-metadata-name.mp3"),
            ("plain 302 to the LAN host", "/plain-lan.mp3"),
            ("plain 302 to the internal loopback port", "/plain-loopback.mp3"),
            ("302 to metadata on the reconnect (fresh -ss recovery path)", "/ua-on-reconnect.mp3"),
        ):
            await self.attack(group, name, f"http://public.lab{path}")

    async def playlists_behind_mp3(self) -> None:
        group = "2 HLS/DASH behind .mp3"
        for name, path in (
            ("HLS media playlist as audio/mpeg", "/hls-as-mpeg.mp3"),
            ("HLS media playlist as application/vnd.apple.mpegurl", "/hls-as-mpegurl.mp3"),
            ("HLS master playlist as audio/mpeg", "/hls-master.mp3"),
            ("DASH manifest as audio/mpeg", "/dash-as-mpeg.mp3"),
            ("DASH manifest as application/dash+xml", "/dash-as-dash.mp3"),
        ):
            await self.attack(group, name, f"http://public.lab{path}")

    async def dns_rebinding(self, flip_release: threading.Event) -> None:
        group = "3 DNS rebinding"
        # rebindN.lab answers public N times, then metadata: the flip lands on the Nth resolution
        # the bot makes, whichever stage that is (the link check, yt-dlp's fetch, ffmpeg, ffprobe).
        for n in (1, 2, 3, 4, 5):
            await self.attack(group, f"public for {n} A answer(s), then metadata", f"http://rebind{n}.lab/rebind.mp3")

        recorder = self.fake.voice_log(self.alice.guild)

        async def flip_once_audible(sent: InjectedMessage) -> None:
            await recorder.wait_for_audio(1.0, timeout=20, after=sent.sent_at)
            flip_release.set()  # the public server now points flip.lab at metadata and cuts ffmpeg off

        await self.attack(group, "mid-stream flip, then ffmpeg's -reconnect", "http://flip.lab/flip.mp3",
                          during=flip_once_audible)

    async def redirect_port_oracle(self) -> None:
        group = "4 redirect port oracle"
        for name, path in (
            ("301 to LAN open port", "/r301-lan-open.mp3"),
            ("302 to LAN closed port", "/r302-lan-closed.mp3"),
            ("307 to loopback open port", "/r307-loopback-open.mp3"),
            ("302 to loopback closed port", "/r302-loopback-closed.mp3"),
            ("302 to metadata (open)", "/r302-metadata.mp3"),
            ("302 to a closed port of the public host", "/r302-public-closed.mp3"),
        ):
            await self.attack(group, name, f"http://public.lab{path}")

    async def worn_out_extractor(self, rounds: int = 2) -> None:
        """Two dripping pages at once, from two members (one lookup per member, two per server),
        twice over; each lookup outlives EXTRACT_TIMEOUT and must be cut off."""
        group = "6 worn-out extractor"
        channel = self.alice.guild.text_channel
        for index in range(rounds):
            mark, started = self.marks(), time.perf_counter()
            urls = ["http://public.lab/drip-body.mp3", "http://public.lab/drip-head.mp3"]
            entry: dict[str, Any] = {"group": group, "name": f"two drips at once, round {index + 1}", "url": urls}
            first = await self.alice.say(f"play {urls[0]}")
            await self.bob.say(f"play {urls[1]}")
            try:
                budget = 2 * EXTRACT_TIMEOUT + 10
                reply = await self.fake.wait_for_message(channel, None, budget, after=first)
                await self.fake.wait_for_message(channel, None, budget, after=int(reply["id"]))
                await self.idle()
            except WaitTimeout as exc:
                entry["error"] = f"timed out: {exc}"
            entry["replies"] = self.replies_after(first)
            entry |= self.evidence_since(mark)
            entry["seconds"] = round(time.perf_counter() - started, 2)
            self.attacks.append(entry)

    async def final_legit_track(self) -> dict[str, Any]:
        recorder = self.fake.voice_log(self.alice.guild)
        url = "http://public.lab/final.mp3"
        result: dict[str, Any] = {"url": url}
        ends = self.watcher.mark()
        sent = await self.alice.say(f"play {url}")
        try:
            result["reply"] = await self.command_reply(sent)
            await recorder.wait_for_audio(FINAL_SECONDS - 0.3, timeout=20, after=sent.sent_at)
            [ended] = await self.watcher.wait_for_ends(ends, 1, 20)
            result["track_end"] = dataclasses.asdict(ended)
        except (WaitTimeout, TimeoutError) as exc:
            result["error"] = f"timed out: {exc}"
        result["audio_seconds"] = round(recorder.audio_seconds(after=sent.sent_at), 2)
        result["dominant_hz"] = _rounded(recorder.dominant_frequency(0.2, FINAL_SECONDS - 0.5, after=sent.sent_at))
        return result


def _rounded(value: float) -> float | None:
    return None if math.isnan(value) else round(value, 1)


def secret_heard_seconds(lab: Lab) -> float:
    """Seconds of voice audio at the internal listeners' secret pitch: a leak one could hear."""
    track = lab.fake.voice_log(lab.alice.guild).frequency_track(0.1)
    return round(sum(0.1 for _, hz in track if not math.isnan(hz) and abs(hz - SECRET_HZ) < 15), 1)


def make_media(root: Path) -> dict[str, Path]:
    files = {
        "tone": generate_tone(root / "tone.mp3", TONE_HZ, TONE_SECONDS),
        "final": generate_tone(root / "final.mp3", FINAL_HZ, FINAL_SECONDS),
        "long": generate_tone(root / "long.mp3", LONG_HZ, LONG_SECONDS),
        "secret": generate_tone(root / "secret.mp3", SECRET_HZ, 3.0),
    }
    return files


def hls_playlist(loopback_port: int) -> bytes:
    key = f"http://{METADATA}/latest/meta-data/iam/security-credentials/"
    return (
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n"
        f'#EXT-X-KEY:METHOD=AES-128,URI="{key}"\n'
        f"#EXTINF:2.0,\nhttp://{METADATA}/latest/meta-data/seg0.ts\n"
        f"#EXTINF:2.0,\nhttp://{LAN}/seg1.ts\n"
        f"#EXTINF:2.0,\nhttp://127.0.0.1:{loopback_port}/seg2.ts\n"
        f"#EXTINF:2.0,\nhttp://{ORACLE}/opc/v1/seg3.ts\n"
        "#EXT-X-ENDLIST\n"
    ).encode()


def hls_master(loopback_port: int) -> bytes:
    return (
        "#EXTM3U\n"
        '#EXT-X-STREAM-INF:BANDWIDTH=128000,CODECS="mp4a.40.2"\n'
        f"http://{METADATA}/latest/meta-data/audio.m3u8\n"
        '#EXT-X-STREAM-INF:BANDWIDTH=64000,CODECS="mp4a.40.2"\n'
        f"http://127.0.0.1:{loopback_port}/audio.m3u8\n"
    ).encode()


def dash_manifest() -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT6S"
     minBufferTime="PT2S" profiles="urn:mpeg:dash:profile:isoff-on-demand:2011">
  <BaseURL>http://{METADATA}/latest/meta-data/</BaseURL>
  <Period>
    <AdaptationSet mimeType="audio/mp4" lang="en">
      <Representation id="a" codecs="mp4a.40.2" bandwidth="128000" audioSamplingRate="48000">
        <BaseURL>http://{LAN}/audio.mp4</BaseURL>
        <SegmentBase indexRange="0-100"><Initialization range="0-50"/></SegmentBase>
      </Representation>
    </AdaptationSet>
  </Period>
</MPD>
""".encode()


def routes(media: dict[str, Path], dns: LabDns, loopback_port: int, closed_port: int,
           flip_release: threading.Event) -> dict[str, Route]:
    metadata_url = f"http://{METADATA}/latest/meta-data/"
    loopback_url = f"http://127.0.0.1:{loopback_port}/internal"
    cut_now = threading.Event()
    cut_now.set()
    return {
        "/tone.mp3": Audio(media["tone"]),
        "/final.mp3": Audio(media["final"]),
        "/rebind.mp3": Audio(media["tone"]),
        # 1: the link checks out for yt-dlp; ffmpeg and ffprobe are sent inside.
        "/ua-metadata.mp3": MediaClientRedirect(media["tone"], metadata_url),
        "/ua-oracle.mp3": MediaClientRedirect(media["tone"], f"http://{ORACLE}/opc/v1/instance/"),
        "/ua-lan.mp3": MediaClientRedirect(media["tone"], f"http://{LAN}/admin"),
        "/ua-loopback.mp3": MediaClientRedirect(media["tone"], loopback_url),
        "/ua-metadata-name.mp3": MediaClientRedirect(media["tone"], "http://metadata.lab/latest/meta-data/"),
        "/plain-lan.mp3": Redirect(302, f"http://{LAN}/x.mp3"),
        "/plain-loopback.mp3": Redirect(302, f"http://127.0.0.1:{loopback_port}/x.mp3"),
        "/ua-on-reconnect.mp3": CutMidStream(media["long"], cut_now, then=metadata_url),
        # 2: playlists dressed as an mp3.
        "/hls-as-mpeg.mp3": Document("audio/mpeg", hls_playlist(loopback_port)),
        "/hls-as-mpegurl.mp3": Document("application/vnd.apple.mpegurl", hls_playlist(loopback_port)),
        "/hls-master.mp3": Document("audio/mpeg", hls_master(loopback_port)),
        "/dash-as-mpeg.mp3": Document("audio/mpeg", dash_manifest()),
        "/dash-as-dash.mp3": Document("application/dash+xml", dash_manifest()),
        # 3: the mid-stream flip (flip.lab is public until the cut).
        "/flip.mp3": CutMidStream(media["long"], flip_release, on_cut=lambda: dns.point("flip.lab", METADATA)),
        # 4: redirects yt-dlp follows, to open and closed ports.
        "/r301-lan-open.mp3": Redirect(301, f"http://{LAN}:{LAN_OPEN_PORT}/x.mp3"),
        "/r302-lan-closed.mp3": Redirect(302, f"http://{LAN}:{LAN_CLOSED_PORT}/x.mp3"),
        "/r307-loopback-open.mp3": Redirect(307, f"http://127.0.0.1:{loopback_port}/x.mp3"),
        "/r302-loopback-closed.mp3": Redirect(302, f"http://127.0.0.1:{closed_port}/x.mp3"),
        "/r302-metadata.mp3": Redirect(302, metadata_url),
        "/r302-public-closed.mp3": Redirect(302, f"http://{PUBLIC}:{PUBLIC_CLOSED_PORT}/x.mp3"),
        # 6: pages that never finish.
        "/drip-body.mp3": Drip(DRIP_INTERVAL),
        "/drip-head.mp3": Drip(DRIP_INTERVAL, in_head=True),
    }


@contextlib.contextmanager
def listeners(media: dict[str, Path], hits: HitLog, site: PublicSite) -> Iterator[int]:
    """Every lab listener; yields the internal loopback listener's port."""
    secret = media["secret"]
    with contextlib.ExitStack() as stack:
        for name, address in (
            ("metadata", (METADATA, 80)),
            ("oracle-metadata", (ORACLE, 80)),
            ("lan", (LAN, 80)),
            (f"lan:{LAN_OPEN_PORT}", (LAN, LAN_OPEN_PORT)),
        ):
            stack.enter_context(internal_listener(name, address, hits, secret))
        _, loopback_port = stack.enter_context(internal_listener("loopback", ("127.0.0.1", 0), hits, secret))
        stack.enter_context(public_site(site, (PUBLIC, 80), hits))
        yield loopback_port


async def scenario(work: Path) -> dict[str, Any]:
    started = time.perf_counter()
    capture = LogCapture()
    for name, level in (
        ("audio.egress_proxy", logging.INFO), ("audio.extractor", logging.INFO), ("audio.timed_audio", logging.DEBUG),
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
                    command_prefix=PREFIX, dj_role=DJ_ROLE, data_dir=work / "data", idle_timeout=600.0,
                    extract_timeout=EXTRACT_TIMEOUT, play_cooldown=(1000, 1.0),
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
        level=logging.INFO, stream=sys.stderr,
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
