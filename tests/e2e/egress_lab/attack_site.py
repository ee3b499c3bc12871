"""What the lab serves: generated media, the public site's attack routes, and the internal listeners."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path

from tests.e2e.egress_lab.dns import LabDns
from tests.e2e.egress_lab.namespace import (
    LAN,
    LAN_CLOSED_PORT,
    LAN_OPEN_PORT,
    METADATA,
    ORACLE,
    PUBLIC,
    PUBLIC_CLOSED_PORT,
)
from tests.e2e.egress_lab.public_site import (
    Audio,
    CutMidStream,
    Document,
    Drip,
    MediaClientRedirect,
    PublicSite,
    Redirect,
    Route,
    public_site,
)
from tests.e2e.egress_lab.servers import HitLog, internal_listener
from tests.media import generate_tone

TONE_HZ = 440.0
FINAL_HZ = 660.0
LONG_HZ = 550.0
SECRET_HZ = 1000.0  # what every internal listener serves: heard in voice only if something leaked
TONE_SECONDS = 5.0  # longer than the player's 3 s pre-start lead, so the next track is pre-started
FINAL_SECONDS = 3.0
LONG_SECONDS = 8.0
DRIP_INTERVAL = 2.0


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


def routes(
    media: dict[str, Path], dns: LabDns, loopback_port: int, closed_port: int, flip_release: threading.Event
) -> dict[str, Route]:
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
        "/flip.mp3": CutMidStream(
            media["long"], flip_release, on_cut=lambda: dns.point("flip.lab", METADATA)
        ),
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
