"""Lookups over saved yt-dlp answers: playlist caps, searches, the audio stream chosen from a YouTube answer."""

from __future__ import annotations

import pytest

import audio.extractor.jobs as jobs_module
from audio.errors import NothingFound, UrlRefused
from audio.extractor import Extractor
from audio.track import Provider, Track
from audio.url_policy import MSG_MEDIA, UrlPolicy
from tests.audio.infodicts import load_info
from tests.audio.ytdlp_answers import Answers, googlevideo_only, in_process
from tests.media import MediaServer


async def test_resolve_all_caps_a_playlist(
    media_server: MediaServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The link is on loopback, so even if the stand-in failed nothing could leave this machine.
    answers = Answers(load_info("youtube_playlist_flat"))
    monkeypatch.setattr(jobs_module, "_extract", answers)
    link = media_server.url("list.mp3")
    extractor = in_process(UrlPolicy(allow_private_network=True), playlist_limit=3)
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


async def test_resolve_all_caps_a_long_playlist(
    media_server: MediaServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    info = load_info("youtube_playlist_flat")
    template = info["entries"][0]
    info["entries"] = [
        {**template, "id": f"v{i:010d}", "url": f"https://www.youtube.com/watch?v=v{i:010d}"}
        for i in range(250)
    ]
    monkeypatch.setattr(jobs_module, "_extract", Answers(info))
    extractor = in_process(UrlPolicy(allow_private_network=True), playlist_limit=40)
    try:
        tracks = await extractor.resolve_all(media_server.url("list.mp3"))
    finally:
        extractor.close()
    assert len(tracks) == 40
    assert tracks[-1].page_url == "https://www.youtube.com/watch?v=v0000000039"


async def test_search_uses_the_search_provider_and_returns_n(
    extractor_default: Extractor, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = Answers(load_info("youtube_search"))
    monkeypatch.setattr(jobs_module, "_extract", answers)
    tracks = await extractor_default.search("never gonna give you up", 5, requester_id=3)
    assert answers.asked == ["ytsearch5:never gonna give you up"]
    assert len(tracks) == 5 and tracks[0].title.startswith("Rick Astley - Never Gonna")
    answers.asked.clear()
    first = (await extractor_default.resolve_all("never gonna give you up"))[0]
    assert answers.asked == ["ytsearch1:never gonna give you up"]
    assert first == tracks[0].requested_by(None)


async def test_empty_search_is_nothing_found(
    extractor_default: Extractor, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = load_info("youtube_search")
    empty["entries"] = []
    monkeypatch.setattr(jobs_module, "_extract", Answers(empty))
    with pytest.raises(NothingFound):
        await extractor_default.search("zzzzzzzzzzzzzzzzzzzz")
    with pytest.raises(NothingFound):
        await extractor_default.resolve_all("   ")


async def test_stream_selects_audio_from_a_youtube_answer(
    media_server: MediaServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The page link is on loopback: had the stand-in failed, yt-dlp could only have asked 127.0.0.1.
    info = load_info("youtube_video")
    info["http_headers"] = {**info["http_headers"], "Cookie": "SID=secret"}
    answers = Answers(info)
    monkeypatch.setattr(jobs_module, "_extract", answers)
    extractor = in_process(UrlPolicy(allow_private_network=True, resolver=googlevideo_only))
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
    monkeypatch.setattr(jobs_module, "_extract", Answers(info))

    class LoopbackPagesStrictMedia(UrlPolicy):
        """The page may be our loopback server; anything yt-dlp would fetch gets the default rules."""

        def check_media_url(self, url: str) -> None:
            UrlPolicy(resolver=googlevideo_only).check_media_url(url)

    extractor = in_process(LoopbackPagesStrictMedia(allow_private_network=True, resolver=googlevideo_only))
    try:
        with pytest.raises(UrlRefused) as refused:
            await extractor.stream(
                Track("t", media_server.url("watch.mp3"), 213.0, None, None, Provider.YOUTUBE)
            )
    finally:
        extractor.close()
    assert refused.value.user_message == MSG_MEDIA
    assert media_server.requests == []
