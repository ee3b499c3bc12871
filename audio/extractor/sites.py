"""Which site words are searched on: a prefix the member typed (``sc: words``), else the server's default.

Only a short word before a colon counts as a prefix, and only a known one is taken: "Queen: Bohemian
Rhapsody" stays search words. A prefix naming a site BRENT cannot search (``spotify: ...``) is
refused with the list of those it can, rather than silently searched on YouTube.
"""

from __future__ import annotations

import re

from audio.errors import ExtractionError, UrlRefused
from audio.track import Provider

# Site name -> yt-dlp's search key and the provider it needs.
SEARCH_KEYS: dict[str, tuple[str, Provider]] = {
    "youtube": ("ytsearch", Provider.YOUTUBE),
    "soundcloud": ("scsearch", Provider.SOUNDCLOUD),
}
DEFAULT_SITE = "youtube"
PREFIXES: dict[str, str] = {"yt": "youtube", "youtube": "youtube", "sc": "soundcloud", "soundcloud": "soundcloud"}
LOCAL_PREFIXES = frozenset({"local", "lib"})
# Sites members may try as a prefix that have no search here: told so instead of a YouTube search.
NOT_SEARCHABLE = frozenset(
    {"spotify", "sp", "deezer", "dz", "apple", "am", "applemusic", "tidal", "bandcamp", "bc", "ytm", "yandex", "vk"}
)
MSG_UNKNOWN_SITE = "I can't search {site} by name; start with `yt:`, `sc:` or `local:`, or paste a link."
MSG_SITE_OFF = "Searching {site} is turned off on this bot."

_PREFIX = re.compile(r"^\s*([A-Za-z]{2,12}):\s*(.*)$", re.DOTALL)
_BARE = re.compile(r"^\s*([A-Za-z]{2,12})\s+(.+)$", re.DOTALL)


def split_prefix(text: str, *, bare: bool = False) -> tuple[str | None, str]:
    """``("soundcloud", "words")`` for ``sc: words``; ``(None, text)`` when there is no known prefix.

    ``bare`` also takes a site name followed by a space (``search sc words``). ``local:`` comes back
    as ``"local"``; a prefix of a site that cannot be searched raises.
    """
    found = _PREFIX.match(text) or (_BARE.match(text) if bare else None)
    if found is None or "://" in text.split(None, 1)[0]:
        return None, text
    word = found.group(1).casefold()
    if word in PREFIXES:
        return PREFIXES[word], found.group(2).strip()
    if word in LOCAL_PREFIXES:
        return "local", found.group(2).strip()
    if word in NOT_SEARCHABLE:
        raise ExtractionError(MSG_UNKNOWN_SITE.format(site=word), detail=f"site prefix {word!r}")
    return None, text


def site_name(search_provider: str | None) -> str:
    """The site a yt-dlp search key searches (``scsearch`` -> ``soundcloud``), as members name it."""
    key = search_provider or SEARCH_KEYS[DEFAULT_SITE][0]
    return next((site for site, (known, _) in SEARCH_KEYS.items() if known == key), key)


def search_key(site: str | None, allowed: frozenset[Provider]) -> str:
    """yt-dlp's search key (``ytsearch``) for ``site``, refused when its provider is not allowed."""
    key, provider = SEARCH_KEYS.get(site or DEFAULT_SITE, SEARCH_KEYS[DEFAULT_SITE])
    if provider not in allowed:
        raise UrlRefused(MSG_SITE_OFF.format(site=provider.value.capitalize()), detail=f"search on {provider}")
    return key
