"""A stand-in for one ``\\search`` or playlist lookup: real yt-dlp processing, no network.

A YouTube search or playlist lookup spends its CPU in two places: parsing the page's big JSON
(``ytInitialData``, ~1 MB) and yt-dlp's per-entry processing (format sorting and selection,
field sanitising). Those pages cannot be fetched here, so this job does both on generated data of
the same shape: ``json.loads`` of a page-sized blob, then ``YoutubeDL.process_ie_result`` on a
playlist of fully-formed video entries with YouTube-like format lists. No request is made: every
entry already carries its formats, so yt-dlp selects a format and stops (``simulate``).

It is a module-level function of picklable arguments so a thread, a process pool or a subprocess
can run it, exactly like :func:`audio.extractor.run_job`.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import yt_dlp

log = logging.getLogger(__name__)

_AUDIO_FORMATS = (("249", 50, "opus", "webm"), ("250", 70, "opus", "webm"), ("251", 130, "opus", "webm"),
                  ("139", 48, "mp4a.40.5", "m4a"), ("140", 129, "mp4a.40.2", "m4a"))
_VIDEO_HEIGHTS = (144, 240, 360, 480, 720, 1080, 1440, 2160)


def _video(index: int) -> dict[str, Any]:
    vid = f"vid{index:08d}"
    formats: list[dict[str, Any]] = []
    for fid, abr, acodec, ext in _AUDIO_FORMATS:
        formats.append({
            "format_id": fid, "url": f"http://127.0.0.1:9/{vid}/{fid}", "ext": ext, "acodec": acodec,
            "vcodec": "none", "abr": abr, "asr": 48000, "audio_channels": 2, "protocol": "https",
            "filesize": 3_000_000 + index, "http_headers": {"User-Agent": "x"},
        })
    for height in _VIDEO_HEIGHTS:
        for codec, ext in (("avc1.4d401e", "mp4"), ("vp9", "webm"), ("av01.0.05M.08", "mp4")):
            formats.append({
                "format_id": f"{height}{codec[:3]}", "url": f"http://127.0.0.1:9/{vid}/{height}{codec[:3]}",
                "ext": ext, "acodec": "none", "vcodec": codec, "height": height, "width": height * 16 // 9,
                "fps": 30, "vbr": height * 2.5, "protocol": "https", "http_headers": {"User-Agent": "x"},
            })
    return {
        "id": vid, "title": f"Generated video number {index} (official audio)", "formats": formats,
        "duration": 180 + index % 120, "uploader": "Some Channel", "channel_id": "UC" + "x" * 22,
        "webpage_url": f"https://www.youtube.com/watch?v={vid}", "extractor": "youtube",
        "extractor_key": "Youtube", "thumbnails": [{"url": f"https://i.ytimg.com/vi/{vid}/{n}.jpg", "width": 120 * n,
                                                  "height": 90 * n} for n in range(1, 6)],
        "view_count": 1000 * index, "tags": ["music", "audio", "generated"], "categories": ["Music"],
    }


def _page_blob(entries: int) -> str:
    """A JSON document about as big and nested as YouTube's ytInitialData for that many results."""
    items = [{"videoRenderer": {"videoId": f"vid{i:08d}", "title": {"runs": [{"text": f"title {i}"}]},
              "thumbnail": {"thumbnails": [{"url": f"https://i.ytimg.com/{i}/{n}.jpg"} for n in range(4)]},
              "ownerText": {"runs": [{"text": "owner", "navigationEndpoint": {"browseEndpoint": {"id": "x" * 24}}}]},
              "badges": [{"metadataBadgeRenderer": {"style": "BADGE_STYLE_TYPE_SIMPLE", "label": "New"}}] * 3,
              "menu": {"items": [{"menuServiceItemRenderer": {"text": {"runs": [{"text": "Add"}]}}}] * 6}}}
             for i in range(entries)]
    return json.dumps({"contents": {"sectionList": {"contents": items * 8}}})


def heavy_lookup(entries: int = 20) -> float:
    """One lookup's worth of yt-dlp work on ``entries`` results; returns its own CPU seconds."""
    started = time.process_time()
    json.loads(_page_blob(entries))
    playlist = {"_type": "playlist", "id": "PLgenerated", "title": "generated results",
                "webpage_url": "https://www.youtube.com/playlist?list=PLgenerated", "extractor": "youtube:tab",
                "extractor_key": "YoutubeTab", "entries": [_video(i) for i in range(entries)]}
    params = {"quiet": True, "no_warnings": True, "simulate": True, "skip_download": True, "format": "bestaudio/best",
              "noprogress": True, "ignoreerrors": False, "extract_flat": False, "logger": _Quiet()}
    with yt_dlp.YoutubeDL(params) as ydl:
        ydl.process_ie_result(playlist, download=False)
    return time.process_time() - started


class _Quiet:
    def debug(self, msg: str) -> None:
        pass

    def info(self, msg: str) -> None:
        pass

    def warning(self, msg: str) -> None:
        pass

    def error(self, msg: str) -> None:
        log.debug("yt-dlp: %s", msg)
