"""When YouTube refuses a track (its bot check, an age gate, a region lock): the same song on SoundCloud.

The title and artist come from the track when a search or playlist gave them, else from YouTube's
public oEmbed answer for the link (a small JSON that the bot check does not guard). The words are
cleaned of what only YouTube titles carry ("(Official Video)", "[4K]", " - Topic") and searched on
SoundCloud; whoever queued it is told it is a match, not the original.
"""

from __future__ import annotations

import json
import logging
import re
import urllib.parse
from typing import TYPE_CHECKING

from audio.errors import BrentError, ExtractionError, NothingFound
from audio.extractor.messages import MSG_AGE, MSG_BOT_CHECK, MSG_GEO
from audio.track import Provider, Track

if TYPE_CHECKING:
    from audio.extractor.extractor import Extractor

log = logging.getLogger(__name__)

YOUTUBE_REFUSALS = frozenset({MSG_BOT_CHECK, MSG_AGE, MSG_GEO})
OEMBED_URL = "https://www.youtube.com/oembed"
_DECORATION = re.compile(
    r"[\(\[][^\)\]]*\b(?:official|video|audio|lyrics?|visuali[sz]er|hd|4k|remaster(?:ed)?|mv|m/v)\b[^\)\]]*[\)\]]",
    re.IGNORECASE,
)


def refused_by_youtube(error: BaseException | None) -> bool:
    """A refusal that another site may not make: bot check, age gate, region lock."""
    return isinstance(error, BrentError) and error.user_message in YOUTUBE_REFUSALS


def search_words(title: str, artist: str | None) -> str:
    """``Artist Song`` from a YouTube title and channel, without video decorations."""
    words = " ".join(_DECORATION.sub(" ", title).split())
    if artist:
        artist = artist.removesuffix(" - Topic").removesuffix("VEVO").strip()
        if artist and artist.casefold() not in words.casefold():
            words = f"{artist} {words}"
    return words[:200]


def oembed_title(text: str) -> tuple[str, str | None]:
    """Title and author of an oEmbed answer."""
    try:
        answer = json.loads(text)
    except ValueError:
        raise ExtractionError(MSG_BOT_CHECK, detail="oembed answer is not JSON") from None
    title = answer.get("title") if isinstance(answer, dict) else None
    if not isinstance(title, str) or not title.strip():
        raise ExtractionError(MSG_BOT_CHECK, detail="oembed answer without a title")
    author = answer.get("author_name")
    return title.strip(), author.strip() if isinstance(author, str) and author.strip() else None


async def link_title(extractor: Extractor, link: str) -> tuple[str, str | None]:
    """What YouTube calls the video at ``link``, from its oEmbed answer (through the egress gate)."""
    query = urllib.parse.urlencode({"url": link, "format": "json"})
    return oembed_title(await extractor.page(f"{OEMBED_URL}?{query}"))


async def soundcloud_match(extractor: Extractor, title: str, artist: str | None, requester_id: int | None) -> Track:
    """The first SoundCloud hit for the song; NothingFound when SoundCloud is off or has none."""
    if Provider.SOUNDCLOUD not in extractor.policy.allowed_providers:
        raise NothingFound("YouTube refused it, and SoundCloud is turned off here.", detail="no stand-in site")
    tracks = await extractor.resolve_all(search_words(title, artist), requester_id=requester_id, search_provider="scsearch")
    return tracks[0]
