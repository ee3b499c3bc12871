"""Real lookups against the loopback media server: files, refused links, timeouts, redirects, worker pools."""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import multiprocessing
import subprocess
import time
from pathlib import Path

import pytest

from audio import url_policy
from audio.errors import ExtractionError, ExtractionTimeout, UrlRefused
from audio.extractor import MSG_TIMEOUT, MSG_UNAVAILABLE, MSG_UNREACHABLE, Extractor
from audio.track import Provider, Stream, Track
from audio.url_policy import MSG_LOOPBACK, Address, UrlPolicy
from tests.audio.ytdlp_answers import in_process
from tests.media import MediaServer, media_duration


async def test_resolves_a_real_file_over_http(
    extractor_loopback: Extractor, media_server: MediaServer, media_dir: Path
) -> None:
    url = media_server.url("tone.mp3")
    [track] = await extractor_loopback.resolve_all(url, requester_id=1234)
    assert track.provider is Provider.DIRECT
    assert track.page_url == url
    assert track.title == "tone"
    assert track.requester_id == 1234
    # A direct file comes back at once, unmeasured; measure() is the ffprobe half.
    assert track.duration is None and extractor_loopback.needs_measuring(track)
    measured = await extractor_loopback.measure(track)
    assert measured.duration == pytest.approx(media_duration(media_dir / "tone.mp3"), abs=0.1)
    assert measured == dataclasses.replace(track, duration=measured.duration)


async def test_discord_angle_brackets_are_unwrapped(
    extractor_loopback: Extractor, media_server: MediaServer
) -> None:
    url = media_server.url("tone.ogg")
    assert Extractor.is_url(f"<{url}>")
    [track] = await extractor_loopback.resolve_all(f"  <{url}> ")
    assert track.page_url == url and track.title == "tone"


async def test_stream_gives_a_loopback_url_ffmpeg_plays(
    extractor_loopback: Extractor, media_server: MediaServer
) -> None:
    [track] = await extractor_loopback.resolve_all(media_server.url("tone.mp3"))
    stream = await extractor_loopback.stream(track)
    assert isinstance(stream, Stream)
    assert stream.url.startswith(f"http://127.0.0.1:{media_server.port}/")
    assert "cookie" not in {k.lower() for k in stream.http_headers}
    headers = "".join(f"{k}: {v}\r\n" for k, v in stream.http_headers.items())
    before = media_server.request_count()
    pcm = subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-v",
            "error",
            "-protocol_whitelist",
            "http,https,tls,tcp,crypto",
            "-headers",
            headers,
            "-i",
            stream.url,
            "-vn",
            "-f",
            "s16le",
            "-ac",
            "2",
            "-ar",
            "48000",
            "-",
        ],
        check=True,
        capture_output=True,
        timeout=30,
    ).stdout
    assert len(pcm) / (48000 * 2 * 2) == pytest.approx(3.0, abs=0.1)
    played = media_server.requests[before:]
    assert played and played[0].headers.get("User-Agent") == stream.http_headers["User-Agent"]


async def test_default_policy_refuses_loopback_before_any_request(
    extractor_default: Extractor, media_server: MediaServer
) -> None:
    url = media_server.url("tone.mp3")
    with pytest.raises(UrlRefused) as refused:
        await extractor_default.resolve_all(url)
    assert refused.value.user_message == MSG_LOOPBACK
    restored = Track("tone", url, 3.0, None, None, Provider.DIRECT)  # e.g. a queue row from the database
    with pytest.raises(UrlRefused):
        await extractor_default.stream(restored)
    with pytest.raises(UrlRefused):
        await extractor_default.resolve_all(url.replace("127.0.0.1", "2130706433"))
    assert media_server.requests == []


async def test_hostile_schemes_never_become_searches(extractor_default: Extractor) -> None:
    for text in ("file:///etc/passwd", "ftp://127.0.0.1/a.mp3", "http://0x7f.1/a.mp3"):
        assert Extractor.is_url(text)
        with pytest.raises(UrlRefused):
            await extractor_default.resolve_all(text)


def test_is_url_tells_links_from_words() -> None:
    assert Extractor.is_url("https://www.youtube.com/watch?v=dQw4w9WgXcQ")
    assert Extractor.is_url("http://localhost:8000/a.mp3")
    assert not Extractor.is_url("never gonna give you up")
    assert not Extractor.is_url("Genesis: Land of Confusion")
    assert not Extractor.is_url("")


async def test_hanging_server_times_out_within_the_limit(media_server: MediaServer) -> None:
    extractor = Extractor(policy=UrlPolicy(allow_private_network=True), timeout=1.0)
    try:
        await extractor.warm_up()  # as the bot does at login: a worker's start is not the lookup's time
        started = time.monotonic()
        with pytest.raises(ExtractionTimeout) as timed_out:
            await extractor.resolve_all(media_server.url("hang.mp3"))
        elapsed = time.monotonic() - started
    finally:
        extractor.close()
    assert 0.9 <= elapsed < 2.5
    assert timed_out.value.user_message == MSG_TIMEOUT
    assert media_server.requests and {r.path for r in media_server.requests} == {"/hang.mp3"}


async def test_missing_file_is_a_short_error(
    extractor_loopback: Extractor, media_server: MediaServer
) -> None:
    with pytest.raises(ExtractionError) as failed:
        await extractor_loopback.resolve_all(media_server.url("missing.mp3"))
    assert failed.value.user_message == MSG_UNAVAILABLE
    assert "HTTP Error 404" in str(failed.value)  # the detail, for the log only


async def test_closed_port_is_unreachable(extractor_loopback: Extractor) -> None:
    import socket

    with socket.socket() as probe:  # a port that was free a moment ago and has no listener
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ExtractionError) as failed:
        await extractor_loopback.resolve_all(f"http://127.0.0.1:{port}/gone.mp3")
    assert failed.value.user_message == MSG_UNREACHABLE


async def test_a_redirect_to_a_refused_address_is_never_followed(
    media_server: MediaServer, media_dir: Path
) -> None:
    """yt-dlp follows redirects itself; each hop is a new request to the egress proxy, checked there."""
    from tests.media import media_server as serve_media

    with serve_media(media_dir) as forbidden:

        class RefuseOneName(UrlPolicy):
            def connectable_addresses(self, host: str) -> list[Address]:
                if host == "forbidden.test":
                    raise UrlRefused(url_policy.MSG_PRIVATE, detail="test rule")
                return super().connectable_addresses(host)

        media_server.redirects["/bounce.mp3"] = f"http://forbidden.test:{forbidden.port}/tone.mp3"
        extractor = in_process(RefuseOneName(allow_private_network=True), timeout=10.0)
        try:
            with pytest.raises(ExtractionError) as refused:
                await extractor.resolve_all(media_server.url("bounce.mp3"))
        finally:
            extractor.close()
        assert forbidden.requests == []
    # The same reply as for a port with nothing listening: no way to tell the two apart.
    assert refused.value.user_message == MSG_UNREACHABLE


async def test_runs_in_a_process_pool(media_server: MediaServer) -> None:
    pool = concurrent.futures.ProcessPoolExecutor(
        max_workers=1, mp_context=multiprocessing.get_context("spawn")
    )
    extractor = Extractor(policy=UrlPolicy(allow_private_network=True), timeout=30.0, executor=pool)
    try:
        [track] = await extractor.resolve_all(media_server.url("tone.mp3"))
        measured = await extractor.measure(track)
        stream = await extractor.stream(track)
        with pytest.raises(UrlRefused):
            await extractor.resolve_all("file:///etc/passwd")
    finally:
        extractor.close()
        pool.shutdown(wait=True)
    assert track.provider is Provider.DIRECT and track.duration is None
    assert measured.duration == pytest.approx(3.0, abs=0.1)
    assert stream.url == media_server.url("tone.mp3")


async def test_calls_do_not_block_the_event_loop(media_server: MediaServer) -> None:
    extractor = Extractor(policy=UrlPolicy(allow_private_network=True), timeout=1.0)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    task = asyncio.create_task(ticker())
    try:
        with pytest.raises(ExtractionTimeout):
            await extractor.resolve_all(media_server.url("hang.mp3"))
    finally:
        task.cancel()
        extractor.close()
    assert ticks >= 20


async def test_closed_extractor_refuses_work(media_server: MediaServer) -> None:
    extractor = Extractor(policy=UrlPolicy(allow_private_network=True))
    extractor.close()
    with pytest.raises(ExtractionError):
        await extractor.resolve_all(media_server.url("tone.mp3"))
    assert media_server.requests == []
