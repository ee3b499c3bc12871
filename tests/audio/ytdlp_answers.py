"""Saved yt-dlp answers standing in for sites that can't be reached here, and the in-process Extractor they need."""

from __future__ import annotations

import copy
from typing import Any

import yt_dlp

from audio.executors import ExecutorMode
from audio.extractor import Extractor
from audio.url_policy import UrlPolicy


def in_process(policy: UrlPolicy, **options: Any) -> Extractor:
    """An Extractor whose jobs run in this process, where a test can stand in for parts of them."""
    return Extractor(policy=policy, mode=ExecutorMode.THREAD, **options)


def googlevideo_only(host: str) -> list[str]:
    """Stub DNS: only the fixture's media host "exists" (it is never contacted)."""
    return ["93.184.215.14"] if host.endswith(".googlevideo.com") else []


class Answers:
    """Stands in for a site yt-dlp can't reach from here: real yt-dlp processes a saved answer."""

    def __init__(self, info: dict[str, Any]) -> None:
        self.info = info
        self.asked: list[str] = []

    def __call__(self, ydl: yt_dlp.YoutubeDL, url: str) -> dict[str, Any]:
        self.asked.append(url)
        return ydl.process_ie_result(copy.deepcopy(self.info), download=False)
