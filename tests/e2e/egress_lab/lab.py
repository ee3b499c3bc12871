"""The lab's attacks through ``\\play`` as a DJ in voice, each with its replies, track end and evidence."""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bot.bot import BrentBot
from tests.e2e.brent_rig import Member
from tests.e2e.controller_rig import is_controller, is_reply
from tests.e2e.egress_lab.attack_site import FINAL_SECONDS, SECRET_HZ, TONE_SECONDS
from tests.e2e.egress_lab.dns import LabDns
from tests.e2e.egress_lab.evidence import EndWatcher, LogCapture, Marks
from tests.e2e.egress_lab.public_site import PublicSite
from tests.e2e.egress_lab.servers import HitLog
from tests.fakediscord import FakeDiscord, InjectedMessage, WaitTimeout, message_text
from tests.fakediscord import wait_for_bot as wait_for_bot_state

log = logging.getLogger("egress_lab")


EXTRACT_TIMEOUT = 5.0  # small, so the drip attack costs seconds; ample for lookups on this machine
ATTACK_TIMEOUT = 40.0  # one attack, from the command to the end of its track


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
        return Marks(
            len(self.hits), len(self.site.snapshot()), len(self.dns.snapshot()), len(self.capture.snapshot())
        )

    def evidence_since(self, mark: Marks) -> dict[str, Any]:
        logs = self.capture.snapshot()[mark.logs :]
        spawns = [
            message for name, message in logs if name == "audio.timed_audio" and " started at " in message
        ]
        return {
            "internal_hits": [
                h.as_dict() for h in self.hits.snapshot()[mark.hits :] if h.listener != "public"
            ],
            "served": [s.as_dict() for s in self.site.snapshot()[mark.served :]],
            "proxy_refusals": [m for name, m in logs if name == "audio.egress_proxy" and "refused" in m],
            "extractor_failures": [
                m for name, m in logs if name.startswith("audio.extractor") and "fail" in m
            ],
            "dns": [
                {"name": q.name, "qtype": q.qtype, "answer": q.answer}
                for q in self.dns.snapshot()[mark.dns :]
            ],
            "ffmpeg_spawns": {
                "standby": sum(s.endswith("(standby)") for s in spawns),
                "fresh": sum(s.endswith("(fresh)") for s in spawns),
            },
        }

    def replies_after(self, sent: InjectedMessage) -> list[str]:
        channel = self.alice.guild.text_channel
        return [message_text(m) for m in self.fake.bot_messages(channel, after=sent) if not is_controller(m)]

    async def command_reply(self, sent: InjectedMessage, timeout: float = ATTACK_TIMEOUT) -> str:
        """The first answer after the command. Attacks run one at a time (each waits for the player
        to be idle), so a "Skipped" line here is this track's: it failed while being measured,
        before a "Playing" reply, and the notice is the answer. The now-playing controller is no answer."""
        reply = await self.fake.wait_for_message(self.alice.guild.text_channel, is_reply, timeout, after=sent)
        return message_text(reply)

    async def idle(self, timeout: float = ATTACK_TIMEOUT) -> None:
        """Until the player has no track and an empty queue (every attack track ended)."""

        def idle() -> bool:
            player = self.bot.players.get(self.alice.guild.id)
            return player is None or (player.current is None and len(player.queue) == 0)

        await wait_for_bot_state(idle, timeout, "the player to be idle")

    async def attack(
        self,
        group: str,
        name: str,
        url: str,
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
            entry["tone_end"], entry["track_end"] = (
                dataclasses.asdict(tone_end),
                dataclasses.asdict(attack_end),
            )
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
            await self.attack(
                group, f"public for {n} A answer(s), then metadata", f"http://rebind{n}.lab/rebind.mp3"
            )

        recorder = self.fake.voice_log(self.alice.guild)

        async def flip_once_audible(sent: InjectedMessage) -> None:
            await recorder.wait_for_audio(1.0, timeout=20, after=sent.sent_at)
            flip_release.set()  # the public server now points flip.lab at metadata and cuts ffmpeg off

        await self.attack(
            group,
            "mid-stream flip, then ffmpeg's -reconnect",
            "http://flip.lab/flip.mp3",
            during=flip_once_audible,
        )

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
            entry: dict[str, Any] = {
                "group": group,
                "name": f"two drips at once, round {index + 1}",
                "url": urls,
            }
            first = await self.alice.say(f"play {urls[0]}")
            await self.bob.say(f"play {urls[1]}")
            try:
                budget = 2 * EXTRACT_TIMEOUT + 10
                reply = await self.fake.wait_for_message(channel, is_reply, budget, after=first)
                await self.fake.wait_for_message(channel, is_reply, budget, after=int(reply["id"]))
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
        result["dominant_hz"] = _rounded(
            recorder.dominant_frequency(0.2, FINAL_SECONDS - 0.5, after=sent.sent_at)
        )
        return result


def _rounded(value: float) -> float | None:
    return None if math.isnan(value) else round(value, 1)


def secret_heard_seconds(lab: Lab) -> float:
    """Seconds of voice audio at the internal listeners' secret pitch: a leak one could hear."""
    track = lab.fake.voice_log(lab.alice.guild).frequency_track(0.1)
    return round(sum(0.1 for _, hz in track if not math.isnan(hz) and abs(hz - SECRET_HZ) < 15), 1)
