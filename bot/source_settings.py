"""The owner's settings for where music comes from: the music folder, YouTube cookies, an own proxy.

Read by :func:`bot.settings.load_settings` (``MUSIC_DIR``, ``YTDLP_COOKIES``, ``YTDLP_PROXY``); each
is checked here and a bad one raises the settings' own error, naming the setting and the fix.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from audio.extractor.cookies import CookieFileError, check_private
from audio.local_library import LocalLibrary
from audio.upstream_proxy import UpstreamProxy

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SourceSettings:
    music_dir: Path | None = None  # the owner's music folder for `play local: words`; None: no library
    ytdlp_cookies: Path | None = field(default=None, repr=False)  # YouTube cookies (chmod 600), never logged
    ytdlp_proxy: str | None = field(default=None, repr=False)  # http://[user:password@]host:port; never logged

    def library(self) -> LocalLibrary | None:
        """The index of the music folder (a new one each call: one per extractor)."""
        return LocalLibrary(self.music_dir) if self.music_dir is not None else None

    @property
    def upstream(self) -> UpstreamProxy | None:
        return UpstreamProxy.parse(self.ytdlp_proxy) if self.ytdlp_proxy else None


def source_settings(values: Mapping[str, str], error: type[Exception] = ValueError) -> SourceSettings:
    """The three values from the owner's configuration, checked (empty means unset); a bad one raises ``error``."""
    music_dir, cookies, proxy = values.get("MUSIC_DIR", ""), values.get("YTDLP_COOKIES", ""), values.get("YTDLP_PROXY", "")
    folder = Path(music_dir.strip()).expanduser() if music_dir.strip() else None
    if folder is not None and not folder.is_dir():
        raise error(f"MUSIC_DIR must be an existing folder (got {music_dir.strip()!r})")
    cookie_file = Path(cookies.strip()).expanduser() if cookies.strip() else None
    if cookie_file is not None:
        try:
            check_private(cookie_file)
        except CookieFileError as exc:
            raise error(f"YTDLP_COOKIES: {exc}") from None
    if proxy.strip():
        try:
            UpstreamProxy.parse(proxy)
        except ValueError as exc:
            raise error(f"YTDLP_PROXY: {exc}") from None
    return SourceSettings(folder, cookie_file, proxy.strip() or None)
