"""The owner's YouTube cookies (``YTDLP_COOKIES``): only YouTube's and Google's, only to them.

A cookies file exported from a browser holds every site's cookies; only those of YouTube's sign-in
domains are kept, so yt-dlp cannot send any other to anyone, and a stream's ``Cookie`` header is
dropped before ffmpeg (audio/extractor/info.py). The file must be readable by the bot's user alone;
its contents are never logged.
"""

from __future__ import annotations

import http.cookiejar
import logging
import os
import stat
import sys
from pathlib import Path

log = logging.getLogger(__name__)

COOKIE_DOMAINS = ("youtube.com", "google.com")


class CookieFileError(ValueError):
    """Why a cookies file is not used; says how to fix it, never what is in it."""


def check_private(path: Path) -> None:
    """The file exists and no other user may read it (POSIX; Windows has no such mode bits)."""
    try:
        info = path.stat()
    except OSError as exc:
        raise CookieFileError(f"cannot read the cookies file {path}: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise CookieFileError(f"the cookies file {path} is not a regular file")
    if sys.platform != "win32" and info.st_mode & 0o077:
        raise CookieFileError(f"the cookies file {path} is readable by others; run: chmod 600 {path}")
    if not os.access(path, os.R_OK):
        raise CookieFileError(f"the bot's user cannot read the cookies file {path}")


def _ours(domain: str) -> bool:
    host = domain.lstrip(".").lower()
    return any(host == name or host.endswith("." + name) for name in COOKIE_DOMAINS)


def youtube_cookies(path: Path) -> list[http.cookiejar.Cookie]:
    """The file's YouTube and Google cookies (Netscape format); the rest are dropped unread."""
    check_private(path)
    jar = http.cookiejar.MozillaCookieJar()
    try:
        jar.load(str(path), ignore_discard=True, ignore_expires=True)
    except (OSError, http.cookiejar.LoadError) as exc:
        raise CookieFileError(f"the cookies file {path} is not a Netscape cookies.txt file") from exc
    kept = [cookie for cookie in jar if _ours(cookie.domain)]
    log.info("using %d YouTube/Google cookies from the cookies file (%d others ignored)", len(kept), len(jar) - len(kept))
    return kept
