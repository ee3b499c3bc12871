"""The settings a lookup job carries into its worker (thread, process or subprocess)."""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_TIMEOUT = 30.0
DEFAULT_PLAYLIST_LIMIT = 100
DEFAULT_SEARCH_PROVIDER = "ytsearch"


@dataclass(frozen=True, slots=True)
class ExtractorConfig:
    """Everything a worker needs for yt-dlp's options and for ffprobe; picklable, and hashable so
    a worker can keep one YoutubeDL per config."""

    timeout: float = DEFAULT_TIMEOUT
    playlist_limit: int = DEFAULT_PLAYLIST_LIMIT
    search_provider: str = DEFAULT_SEARCH_PROVIDER
    allowed_extractors: tuple[str, ...] = ()
    ffprobe: str | None = None
    cookies: str | None = field(default=None, repr=False)  # YTDLP_COOKIES: loaded (filtered) in each worker
    # The egress proxy's URLs (audio/egress_proxy.py); without them nothing is fetched at all.
    lookup_proxy: str | None = field(default=None, repr=False)
    media_proxy: str | None = field(default=None, repr=False)
