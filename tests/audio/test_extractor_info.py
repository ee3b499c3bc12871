"""yt-dlp's info dicts (YouTube, SoundCloud, searches, playlists) normalised into Tracks and Streams; the options it gets."""

from __future__ import annotations

import pytest
import yt_dlp

from audio.errors import ExtractionError
from audio.extractor import (
    ExtractorConfig,
    allowed_extractors_for,
    stream_from_info,
    track_from_info,
    tracks_from_info,
    ytdl_options,
)
from audio.track import Provider, Track
from audio.url_policy import UrlPolicy
from tests.audio.infodicts import load_info


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
    assert {k.lower() for k in stream.http_headers} == {
        "user-agent",
        "accept",
        "accept-language",
        "sec-fetch-mode",
    }
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
    entry = {
        "_type": "url",
        "ie_key": "Youtube",
        "id": "dQw4w9WgXcQ",
        "url": "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
    }
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
    info = {
        "extractor_key": "Generic",
        "webpage_url": "https://files.example.org/stream",
        "title": "Radio",
        "direct": True,
    }
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
    info["thumbnails"] = thumbs[:1] + [
        {"url": "https://img.example.org/small.jpg", "width": 10, "height": 10}
    ]
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
    config = ExtractorConfig(
        playlist_limit=3, allowed_extractors=allowed_extractors_for(UrlPolicy().allowed_providers)
    )
    with yt_dlp.YoutubeDL(ytdl_options(config)) as ydl:
        processed = ydl.process_ie_result(load_info("youtube_playlist_flat"), download=False)
    assert len(processed["entries"]) == 3


def test_options_follow_the_security_rules() -> None:
    config = ExtractorConfig(
        timeout=12.0, allowed_extractors=allowed_extractors_for(UrlPolicy().allowed_providers)
    )
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
