"""Extractor: yt-dlp's real output normalised into Tracks/Streams, and real lookups on loopback.

Info dicts under ``infodicts/`` are shaped like yt-dlp's output for YouTube, SoundCloud and a
YouTube search/playlist (those sites can't be reached here). Everything that runs yt-dlp or FFmpeg
for real talks only to the loopback media server.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import copy
import dataclasses
import multiprocessing
import pickle
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yt_dlp
from yt_dlp.utils import DownloadError, ExtractorError, GeoRestrictedError, UnsupportedError

import audio.extractor.jobs as jobs_module
from audio import url_policy
from audio.errors import ExtractionError, ExtractionTimeout, NothingFound, UrlRefused
from audio.executors import ExecutorMode
from audio.extractor import (
    MSG_AGE,
    MSG_BOT_CHECK,
    MSG_DRM,
    MSG_GENERIC,
    MSG_GEO,
    MSG_MEMBERS,
    MSG_NOT_STARTED,
    MSG_PRIVATE,
    MSG_TIMEOUT,
    MSG_UNAVAILABLE,
    MSG_UNREACHABLE,
    MSG_UNSUPPORTED,
    ExtractJob,
    Extractor,
    ExtractorConfig,
    JobKind,
    allowed_extractors_for,
    error_from_ytdlp,
    run_job,
    stream_from_info,
    track_from_info,
    tracks_from_info,
    ytdl_options,
)
from audio.track import Provider, Stream, Track
from audio.url_policy import MSG_LOOPBACK, MSG_MEDIA, Address, UrlPolicy
from tests.audio.infodicts import load_info
from tests.media import MediaServer, media_duration


def _in_process(policy: UrlPolicy, **options: Any) -> Extractor:
    """An Extractor whose jobs run in this process, where a test can stand in for parts of them."""
    return Extractor(policy=policy, mode=ExecutorMode.THREAD, **options)


@pytest.fixture
def extractor_loopback() -> Iterator[Extractor]:
    """An Extractor allowed to fetch from this machine (the self-hoster's ALLOW_PRIVATE_NETWORK=1)."""
    extractor = Extractor(policy=UrlPolicy(allow_private_network=True), timeout=10.0, playlist_limit=3)
    yield extractor
    extractor.close()


def _nothing_resolves(host: str) -> list[str]:
    return []


@pytest.fixture
def extractor_default() -> Iterator[Extractor]:
    """The default rules, with a resolver that knows no name: should any test slip through to
    yt-dlp, its request guard refuses every host before a packet could leave this machine. Jobs run
    in this process, where a test can stand in for yt-dlp's answers."""
    extractor = _in_process(UrlPolicy(resolver=_nothing_resolves), timeout=10.0)
    yield extractor
    extractor.close()


# --- normalisation of yt-dlp's real shapes -------------------------------------------------------


def test_youtube_video_normalises() -> None:
    track = track_from_info(load_info("youtube_video"), requester_id=42)
    assert track == Track(
        title="Rick Astley - Never Gonna Give You Up (Official Video) (4K Remaster)",
        page_url="https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        duration=213.0,
        uploader="Rick Astley",
        thumbnail="https://i.ytimg.com/vi/dQw4w9WgXcQ/maxresdefault.jpg",
        provider=Provider.YOUTUBE,
        requester_id=42,
    )
    assert isinstance(track.duration, float)


def test_youtube_video_stream_has_fresh_url_headers_and_expiry() -> None:
    info = load_info("youtube_video")
    stream = stream_from_info(info)
    assert stream.url == info["url"] and stream.url.startswith("https://rr5---sn-4g5lznez.googlevideo.com/")
    assert dict(stream.http_headers) == info["http_headers"]
    assert stream.expires_at == 1795843917.0
    assert stream.is_live is False


def test_stream_never_carries_a_cookie_header() -> None:
    info = load_info("youtube_video")
    info["http_headers"] = {**info["http_headers"], "Cookie": "SID=secret", "cookie": "YSC=also-secret"}
    stream = stream_from_info(info)
    assert {k.lower() for k in stream.http_headers} == {"user-agent", "accept", "accept-language", "sec-fetch-mode"}
    assert "secret" not in repr(dict(stream.http_headers))


def test_header_values_with_line_breaks_are_dropped() -> None:
    info = load_info("youtube_video")
    info["http_headers"] = {"User-Agent": "ok", "X-Evil": "a\r\nCookie: x"}
    assert dict(stream_from_info(info).http_headers) == {"User-Agent": "ok"}


def test_youtube_live_has_no_duration_and_live_stream() -> None:
    info = load_info("youtube_live")
    track = track_from_info(info)
    assert track.duration is None
    assert track.provider is Provider.YOUTUBE
    assert track.uploader == "Lofi Girl"
    assert track.thumbnail == "https://i.ytimg.com/vi/jfKfPfyJRdk/maxresdefault_live.jpg"
    stream = stream_from_info(info)
    assert stream.is_live is True
    assert stream.url.startswith("https://manifest.googlevideo.com/")


def test_live_status_alone_drops_a_duration() -> None:
    info = load_info("youtube_video")
    info["live_status"] = "is_live"
    assert track_from_info(info).duration is None


def test_soundcloud_track_normalises() -> None:
    info = load_info("soundcloud_track")
    track = track_from_info(info, requester_id=7)
    assert track == Track(
        title="Midnight Drive (Extended Mix)",
        page_url="https://soundcloud.com/nightfall-audio/midnight-drive-extended-mix",
        duration=412.734,
        uploader="Nightfall Audio",
        thumbnail="https://i1.sndcdn.com/artworks-Yb7tZqR3oFEQ2Ve5-Xk0G4A-original.jpg",
        provider=Provider.SOUNDCLOUD,
        requester_id=7,
    )
    stream = stream_from_info(info)
    assert stream.url.startswith("https://playback.media-streaming.soundcloud.cloud/")
    assert stream.expires_at == 1795823434.0


def test_youtube_search_result_normalises_every_hit() -> None:
    info = load_info("youtube_search")
    tracks = tracks_from_info(info, limit=5, requester_id=9)
    assert [t.page_url for t in tracks] == [
        "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        "https://www.youtube.com/watch?v=yPYZpwSpKmA",
        "https://www.youtube.com/watch?v=34Ig3X59_qA",
        "https://www.youtube.com/watch?v=lYBUbBu4W08",
        "https://www.youtube.com/watch?v=jfKfPfyJRdk",
    ]
    assert [t.duration for t in tracks] == [213.0, 205.0, 214.0, 265.0, None]
    assert all(t.provider is Provider.YOUTUBE and t.requester_id == 9 for t in tracks)
    assert tracks[2].uploader == "7clouds"
    # flat entries have no "thumbnail": the largest of "thumbnails" is chosen
    assert tracks[0].thumbnail is not None and "CNAFEJQDSFXyq4qpAw4IARUAAIhCGAFwAcABBg" in tracks[0].thumbnail


def test_search_wrapper_is_not_mistaken_for_a_track() -> None:
    """The search playlist's original_url is 'ytsearch5:...', not a page anyone can re-resolve."""
    info = load_info("youtube_search")
    with pytest.raises(ExtractionError):
        track_from_info({k: v for k, v in info.items() if k != "entries"})


def test_flat_playlist_skips_placeholders_and_caps() -> None:
    info = load_info("youtube_playlist_flat")
    tracks = tracks_from_info(info, limit=100)
    assert [t.title for t in tracks] == [
        "Rick Astley - Never Gonna Give You Up (Official Video) (4K Remaster)",
        "Rick Astley - Together Forever (Official Video) [4K Remaster]",
        "Rick Astley - Cry For Help (Official Video)",
        "Rick Astley - She Wants To Dance With Me (Official Video)",
        "Rick Astley - Take Me To Your Heart (Official Video)",
    ]
    assert tracks[-1].duration is None
    assert tracks[-1].uploader == "Rick Astley"  # uploader missing, channel used
    assert [t.title for t in tracks_from_info(info, limit=2)] == [t.title for t in tracks[:2]]


def test_minimal_flat_entry_normalises() -> None:
    entry = {"_type": "url", "ie_key": "Youtube", "id": "dQw4w9WgXcQ", "url": "https://www.youtube.com/watch?v=dQw4w9WgXcQ"}
    track = track_from_info(entry)
    assert track.page_url == entry["url"]
    assert track.provider is Provider.YOUTUBE
    assert track.duration is None and track.uploader is None and track.thumbnail is None
    assert track.title == "watch"


def test_untitled_direct_link_is_named_after_its_file() -> None:
    track = track_from_info({"url": "https://files.example.org/music/My%20Song.mp3", "title": "  "})
    assert track.title == "My Song.mp3"
    assert track.provider is Provider.DIRECT


def test_generic_extractor_means_direct() -> None:
    info = {"extractor_key": "Generic", "webpage_url": "https://files.example.org/stream", "title": "Radio", "direct": True}
    assert track_from_info(info).provider is Provider.DIRECT


@pytest.mark.parametrize("value", [None, "n/a", -1, 0, float("nan"), float("inf"), True])
def test_nonsense_durations_become_none(value: object) -> None:
    info = load_info("youtube_video")
    info["duration"] = value
    assert track_from_info(info).duration is None


def test_thumbnail_choice_prefers_preference_then_size() -> None:
    thumbs = [
        {"url": "https://img.example.org/big.jpg", "width": 1920, "height": 1080},
        {"url": "https://img.example.org/pref.jpg", "preference": 10},
        {"url": "javascript:alert(1)", "preference": 99},
    ]
    info = {"webpage_url": "https://soundcloud.com/a/b", "thumbnails": thumbs}
    assert track_from_info(info).thumbnail == "https://img.example.org/pref.jpg"
    info["thumbnails"] = thumbs[:1] + [{"url": "https://img.example.org/small.jpg", "width": 10, "height": 10}]
    assert track_from_info(info).thumbnail == "https://img.example.org/big.jpg"


def test_uploader_falls_back_to_channel_then_artist() -> None:
    base = {"webpage_url": "https://soundcloud.com/a/b"}
    assert track_from_info({**base, "channel": "Chan", "artist": "Art"}).uploader == "Chan"
    assert track_from_info({**base, "artist": "Art"}).uploader == "Art"
    assert track_from_info({**base, "artists": ["First", "Second"]}).uploader == "First"


def test_track_is_frozen() -> None:
    track = track_from_info(load_info("youtube_video"))
    with pytest.raises(AttributeError):
        track.title = "changed"  # type: ignore[misc]


def test_yt_dlp_itself_caps_a_playlist_with_our_options() -> None:
    """Our one options dict makes real yt-dlp stop at playlist_limit entries."""
    config = ExtractorConfig(playlist_limit=3, allowed_extractors=allowed_extractors_for(UrlPolicy().allowed_providers))
    with yt_dlp.YoutubeDL(ytdl_options(config)) as ydl:
        processed = ydl.process_ie_result(load_info("youtube_playlist_flat"), download=False)
    assert len(processed["entries"]) == 3


def test_options_follow_the_security_rules() -> None:
    config = ExtractorConfig(timeout=12.0, allowed_extractors=allowed_extractors_for(UrlPolicy().allowed_providers))
    options = ytdl_options(config)
    assert options["format"] == "bestaudio/best"
    assert options["default_search"] == "ytsearch"
    assert options["extract_flat"] == "in_playlist"
    assert options["socket_timeout"] == 12.0
    assert not options["nocheckcertificate"] and not options["enable_file_urls"]
    for key in ("cookiefile", "cookiesfrombrowser", "external_downloader", "exec", "netrc_cmd"):
        assert not options.get(key)
    assert options["allowed_extractors"][-1] == "generic"
    no_direct = allowed_extractors_for({Provider.YOUTUBE, Provider.SOUNDCLOUD})
    assert "generic" not in no_direct


# --- yt-dlp errors become short user messages ----------------------------------------------------


def _download_error(cause: Exception) -> DownloadError:
    """What YoutubeDL raises: the message plus the extractor's exception in exc_info."""
    return DownloadError(f"ERROR: {cause}", (type(cause), cause, None))


YT_ERRORS: list[tuple[Exception, str]] = [
    (
        ExtractorError(
            "[youtube] dQw4w9WgXcQ: Sign in to confirm you\u2019re not a bot. Use --cookies-from-browser or "
            "--cookies for the authentication. See  https://github.com/yt-dlp/yt-dlp/wiki/FAQ#how-do-i-pass-cookies-to-yt-dlp "
            " for how to manually pass cookies.",
            expected=True,
        ),
        MSG_BOT_CHECK,
    ),
    (
        ExtractorError("[youtube] Aaaaaaaaaaa: Private video. Sign in if you've been granted access to this video",
                       expected=True),
        MSG_PRIVATE,
    ),
    (
        ExtractorError("[youtube] Aaaaaaaaaaa: Sign in to confirm your age. This video may be inappropriate for "
                       "some users.", expected=True),
        MSG_AGE,
    ),
    (
        GeoRestrictedError("The uploader has not made this video available in your country", countries=["DE"]),
        MSG_GEO,
    ),
    (UnsupportedError("http://203.0.113.9/page"), MSG_UNSUPPORTED),
    (ExtractorError("[youtube] Bbbbbbbbbbb: Video unavailable. This video has been removed by the uploader",
                    expected=True), MSG_UNAVAILABLE),
    (ExtractorError("[youtube] jfKfPfyJRdk: This live event will begin in 3 hours.", expected=True), MSG_NOT_STARTED),
    (ExtractorError("[youtube] Ccccccccccc: This video is DRM protected", expected=True), MSG_DRM),
    (ExtractorError("[soundcloud] 1523459876: Unable to download JSON metadata: HTTP Error 404: Not Found "
                    "(caused by <HTTPError 404: Not Found>)"), MSG_UNAVAILABLE),
    (ExtractorError("[youtube] Ddddddddddd: Join this channel to get access to members-only content like this "
                    "video, and other exclusive perks.", expected=True), MSG_MEMBERS),
    (ExtractorError("[generic] tone: Unable to download webpage: <urlopen error [Errno 111] Connection refused> "
                    "(caused by TransportError('[Errno 111] Connection refused'))"), MSG_UNREACHABLE),
    (ExtractorError("[generic] x: something nobody anticipated at https://203.0.113.9/?ip=203.0.113.7"), MSG_GENERIC),
]


@pytest.mark.parametrize(("cause", "message"), YT_ERRORS, ids=[m for _, m in YT_ERRORS])
def test_yt_dlp_errors_get_distinct_short_messages(cause: Exception, message: str) -> None:
    for raised in (cause, _download_error(cause)):
        error = error_from_ytdlp(raised)
        assert isinstance(error, ExtractionError)
        assert error.user_message == message
        assert "http" not in error.user_message and "203.0.113" not in error.user_message
        assert str(cause.msg if hasattr(cause, "msg") else cause)[:20] in str(error)  # detail kept for the log


def test_socket_timeout_inside_yt_dlp_is_a_timeout() -> None:
    error = error_from_ytdlp(DownloadError("ERROR: [generic] tone: Unable to download webpage: The read operation timed out"))
    assert isinstance(error, ExtractionTimeout) and error.user_message == MSG_TIMEOUT


def test_job_results_survive_pickling_with_their_error_type() -> None:
    """A ProcessPoolExecutor pickles the job and its result both ways."""
    job = ExtractJob(JobKind.RESOLVE_ALL, "file:///etc/passwd", True, UrlPolicy(), ExtractorConfig())
    shipped = pickle.loads(pickle.dumps(job))
    assert (shipped.kind, shipped.text, shipped.config) == (job.kind, job.text, job.config)
    result = run_job(shipped)
    again = pickle.loads(pickle.dumps(result))
    assert again.failure is not None
    error = again.failure.to_error()
    assert type(error) is UrlRefused and error.user_message == result.failure.to_error().user_message


# --- the real thing on loopback ------------------------------------------------------------------


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


async def test_discord_angle_brackets_are_unwrapped(extractor_loopback: Extractor, media_server: MediaServer) -> None:
    url = media_server.url("tone.ogg")
    assert Extractor.is_url(f"<{url}>")
    [track] = await extractor_loopback.resolve_all(f"  <{url}> ")
    assert track.page_url == url and track.title == "tone"


async def test_stream_gives_a_loopback_url_ffmpeg_plays(extractor_loopback: Extractor, media_server: MediaServer) -> None:
    [track] = await extractor_loopback.resolve_all(media_server.url("tone.mp3"))
    stream = await extractor_loopback.stream(track)
    assert isinstance(stream, Stream)
    assert stream.url.startswith(f"http://127.0.0.1:{media_server.port}/")
    assert "cookie" not in {k.lower() for k in stream.http_headers}
    headers = "".join(f"{k}: {v}\r\n" for k, v in stream.http_headers.items())
    before = media_server.request_count()
    pcm = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-protocol_whitelist", "http,https,tls,tcp,crypto",
         "-headers", headers, "-i", stream.url, "-vn", "-f", "s16le", "-ac", "2", "-ar", "48000", "-"],
        check=True, capture_output=True, timeout=30,
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


async def test_missing_file_is_a_short_error(extractor_loopback: Extractor, media_server: MediaServer) -> None:
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


async def test_a_redirect_to_a_refused_address_is_never_followed(media_server: MediaServer, media_dir: Path) -> None:
    """yt-dlp follows redirects itself; each hop is a new request to the egress proxy, checked there."""
    from tests.media import media_server as serve_media

    with serve_media(media_dir) as forbidden:

        class RefuseOneName(UrlPolicy):
            def connectable_addresses(self, host: str) -> list[Address]:
                if host == "forbidden.test":
                    raise UrlRefused(url_policy.MSG_PRIVATE, detail="test rule")
                return super().connectable_addresses(host)

        media_server.redirects["/bounce.mp3"] = f"http://forbidden.test:{forbidden.port}/tone.mp3"
        extractor = _in_process(RefuseOneName(allow_private_network=True), timeout=10.0)
        try:
            with pytest.raises(ExtractionError) as refused:
                await extractor.resolve_all(media_server.url("bounce.mp3"))
        finally:
            extractor.close()
        assert forbidden.requests == []
    # The same reply as for a port with nothing listening: no way to tell the two apart.
    assert refused.value.user_message == MSG_UNREACHABLE


class _Answers:
    """Stands in for a site yt-dlp can't reach from here: real yt-dlp processes a saved answer."""

    def __init__(self, info: dict[str, Any]) -> None:
        self.info = info
        self.asked: list[str] = []

    def __call__(self, ydl: yt_dlp.YoutubeDL, url: str) -> dict[str, Any]:
        self.asked.append(url)
        return ydl.process_ie_result(copy.deepcopy(self.info), download=False)


async def test_resolve_all_caps_a_playlist(media_server: MediaServer, monkeypatch: pytest.MonkeyPatch) -> None:
    # The link is on loopback, so even if the stand-in failed nothing could leave this machine.
    answers = _Answers(load_info("youtube_playlist_flat"))
    monkeypatch.setattr(jobs_module, "_extract", answers)
    link = media_server.url("list.mp3")
    extractor = _in_process(UrlPolicy(allow_private_network=True), playlist_limit=3)
    try:
        tracks = await extractor.resolve_all(link, requester_id=5)
    finally:
        extractor.close()
    assert answers.asked == [link]
    assert 1 <= len(tracks) <= extractor.playlist_limit == 3
    assert [t.page_url for t in tracks] == [
        "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        "https://www.youtube.com/watch?v=yPYZpwSpKmA",
    ]  # the third slot was a private placeholder
    assert all(t.requester_id == 5 for t in tracks)
    assert media_server.requests == []


async def test_resolve_all_caps_a_long_playlist(media_server: MediaServer, monkeypatch: pytest.MonkeyPatch) -> None:
    info = load_info("youtube_playlist_flat")
    template = info["entries"][0]
    info["entries"] = [
        {**template, "id": f"v{i:010d}", "url": f"https://www.youtube.com/watch?v=v{i:010d}"} for i in range(250)
    ]
    monkeypatch.setattr(jobs_module, "_extract", _Answers(info))
    extractor = _in_process(UrlPolicy(allow_private_network=True), playlist_limit=40)
    try:
        tracks = await extractor.resolve_all(media_server.url("list.mp3"))
    finally:
        extractor.close()
    assert len(tracks) == 40
    assert tracks[-1].page_url == "https://www.youtube.com/watch?v=v0000000039"


async def test_search_uses_the_search_provider_and_returns_n(
    extractor_default: Extractor, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = _Answers(load_info("youtube_search"))
    monkeypatch.setattr(jobs_module, "_extract", answers)
    tracks = await extractor_default.search("never gonna give you up", 5, requester_id=3)
    assert answers.asked == ["ytsearch5:never gonna give you up"]
    assert len(tracks) == 5 and tracks[0].title.startswith("Rick Astley - Never Gonna")
    answers.asked.clear()
    first = (await extractor_default.resolve_all("never gonna give you up"))[0]
    assert answers.asked == ["ytsearch1:never gonna give you up"]
    assert first == tracks[0].requested_by(None)


async def test_empty_search_is_nothing_found(extractor_default: Extractor, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = load_info("youtube_search")
    empty["entries"] = []
    monkeypatch.setattr(jobs_module, "_extract", _Answers(empty))
    with pytest.raises(NothingFound):
        await extractor_default.search("zzzzzzzzzzzzzzzzzzzz")
    with pytest.raises(NothingFound):
        await extractor_default.resolve_all("   ")


async def test_runs_in_a_process_pool(media_server: MediaServer) -> None:
    pool = concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
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


def _googlevideo_only(host: str) -> list[str]:
    """Stub DNS: only the fixture's media host "exists" (it is never contacted)."""
    return ["93.184.215.14"] if host.endswith(".googlevideo.com") else []


async def test_stream_selects_audio_from_a_youtube_answer(
    media_server: MediaServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The page link is on loopback: had the stand-in failed, yt-dlp could only have asked 127.0.0.1.
    info = load_info("youtube_video")
    info["http_headers"] = {**info["http_headers"], "Cookie": "SID=secret"}
    answers = _Answers(info)
    monkeypatch.setattr(jobs_module, "_extract", answers)
    extractor = _in_process(UrlPolicy(allow_private_network=True, resolver=_googlevideo_only))
    try:
        page = media_server.url("watch.mp3")
        stream = await extractor.stream(Track("t", page, 213.0, None, None, Provider.YOUTUBE))
    finally:
        extractor.close()
    assert answers.asked == [page]
    audio_only = {f["url"] for f in info["formats"] if f["vcodec"] == "none" and f["acodec"] != "none"}
    assert stream.url in audio_only
    assert stream.expires_at == 1795843917.0
    assert "cookie" not in {k.lower() for k in stream.http_headers}
    assert media_server.requests == []


async def test_stream_refuses_a_media_url_on_a_private_address(
    media_server: MediaServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    info = load_info("youtube_video")
    for fmt in info["formats"]:
        fmt["url"] = "http://169.254.169.254/latest/meta-data/iam/security-credentials/"
    info["url"] = info["formats"][0]["url"]
    monkeypatch.setattr(jobs_module, "_extract", _Answers(info))

    class LoopbackPagesStrictMedia(UrlPolicy):
        """The page may be our loopback server; anything yt-dlp would fetch gets the default rules."""

        def check_media_url(self, url: str) -> None:
            UrlPolicy(resolver=_googlevideo_only).check_media_url(url)

    extractor = _in_process(LoopbackPagesStrictMedia(allow_private_network=True, resolver=_googlevideo_only))
    try:
        with pytest.raises(UrlRefused) as refused:
            await extractor.stream(Track("t", media_server.url("watch.mp3"), 213.0, None, None, Provider.YOUTUBE))
    finally:
        extractor.close()
    assert refused.value.user_message == MSG_MEDIA
    assert media_server.requests == []
