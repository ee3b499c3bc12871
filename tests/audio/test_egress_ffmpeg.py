"""Real ffmpeg, fresh and standby, playing through the egress proxy: what it plays and what it never fetches.

Both servers run on 127.0.0.1; "public.test" and "internal.test" are names the test's policy
resolves to it, and internal.test is refused by rule, as a metadata or LAN address would be. The
internal server records every request it gets; it must get none.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from audio.egress_proxy import EgressProxy
from audio.errors import UrlRefused
from audio.ffmpeg_standby import FfmpegStandby
from audio.timed_audio import TimedAudio
from audio.track import Stream
from audio.url_policy import Address, UrlPolicy
from tests.audio.pcm_analysis import read_all
from tests.media import MediaServer, media_server

pytestmark = pytest.mark.timeout(60)

SECOND_OF_PCM = 48_000 * 2 * 2
Play = Callable[[str], bytes]


class _NamedLoopback(UrlPolicy):
    """public.test and internal.test both resolve to 127.0.0.1; internal.test is refused."""

    def __init__(self) -> None:
        super().__init__(allow_private_network=True, resolver=lambda host: ["127.0.0.1"])

    def connectable_addresses(self, host: str) -> list[Address]:
        if host == "internal.test":
            raise UrlRefused("refused", detail="test rule: internal.test")
        return super().connectable_addresses(host)


@pytest.fixture
def internal(tmp_path: Path) -> Iterator[MediaServer]:
    root = tmp_path / "internal"
    root.mkdir()
    (root / "latest").write_text("ami-id\ninstance-id\n")
    with media_server(root) as server:
        yield server


@pytest.fixture
def egress() -> Iterator[EgressProxy]:
    proxy = EgressProxy(_NamedLoopback())
    yield proxy
    proxy.close()


@pytest.fixture(params=["fresh", "standby"])
def play(request: pytest.FixtureRequest, egress: EgressProxy) -> Iterator[Play]:
    """``play(url) -> bytes``: every PCM byte ffmpeg produces for ``url``, through the proxy."""
    env = egress.ffmpeg_environment()
    standby = FfmpegStandby("ffmpeg", size=1, env=env) if request.param == "standby" else None
    if standby is not None:
        assert standby.wait_ready(10)

    def run(url: str) -> bytes:
        return read_all(TimedAudio(Stream(url, {}), env=env, standby=standby, rw_timeout=3.0))

    yield run
    if standby is not None:
        standby.close()


def _public(server: MediaServer, path: str) -> str:
    return f"http://public.test:{server.port}/{path}"


def test_a_legitimate_file_plays_through_the_proxy(play: Play, media_server: MediaServer) -> None:
    pcm = play(_public(media_server, "tone.mp3"))
    assert len(pcm) >= 2.5 * SECOND_OF_PCM  # tone.mp3 is 3 s
    assert any(r.path == "/tone.mp3" for r in media_server.requests)


def test_a_redirect_to_a_refused_host_is_never_followed(
    play: Play, media_server: MediaServer, internal: MediaServer
) -> None:
    media_server.redirects["/moved.mp3"] = f"http://internal.test:{internal.port}/latest"
    assert play(_public(media_server, "moved.mp3")) == b""
    assert any(r.path == "/moved.mp3" for r in media_server.requests)
    assert internal.requests == []


def test_a_playlist_behind_an_audio_extension_is_not_followed(
    play: Play, media_server: MediaServer, internal: MediaServer, tmp_path: Path
) -> None:
    """The segment host is allowed by the policy: only the format whitelist stands in the way."""
    segment = f"http://public.test:{internal.port}/latest"
    playlist = f"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\n{segment}\n#EXT-X-ENDLIST\n"
    name = f"list-{tmp_path.name}.mp3"
    (media_server.root / name).write_text(playlist)
    try:
        assert play(_public(media_server, name)) == b""
    finally:
        (media_server.root / name).unlink()
    assert internal.requests == []
