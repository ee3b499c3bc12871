"""A Spotify, Apple Music or Deezer link becomes matches on a search site: the songs its public page
names (:mod:`audio.extractor.music_pages`), each searched by artist and title.

Every page is fetched through the egress gate like any lookup. An album or playlist is read up to
``limit`` songs; its searches run two at a time, so one link cannot fill the lookup queue, and a
song with no match is left out rather than failing the rest.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from audio.errors import NothingFound
from audio.extractor.music_pages import (
    MusicLink,
    Service,
    Song,
    apple_songs,
    deezer_songs,
    spotify_song,
    spotify_song_links,
)
from audio.extractor.sites import site_name
from audio.track import Track

if TYPE_CHECKING:
    from audio.extractor.extractor import Extractor

log = logging.getLogger(__name__)

MAX_LINK_SONGS = 25  # an album or playlist link reads at most this many songs
SEARCHES_AT_ONCE = 2
MSG_NO_MATCH = "I found none of the songs of that {service} link on {site}."


async def songs_of(extractor: Extractor, link: MusicLink, limit: int) -> list[Song]:
    """The songs ``link`` names, at most ``limit``."""
    page = await extractor.page(link.url)
    if link.service is Service.SPOTIFY:
        if link.kind == "track":
            return [spotify_song(page)]
        return [spotify_song(await extractor.page(url)) for url in spotify_song_links(page)[:limit]]
    if link.service is Service.APPLE:
        return apple_songs(page, link.kind, link.id)[:limit]
    return deezer_songs(page, link.kind)[:limit]


async def link_matches(
    extractor: Extractor, link: MusicLink, *, search_provider: str | None, requester_id: int | None, limit: int
) -> list[Track]:
    """The best hit with ``search_provider`` (a server's search site) for each song of ``link``, in the link's order."""
    songs = await songs_of(extractor, link, max(1, min(limit, MAX_LINK_SONGS)))
    turns = asyncio.Semaphore(SEARCHES_AT_ONCE)

    async def match(song: Song) -> Track | None:
        async with turns:
            try:
                return (await extractor.resolve_all(song.words, requester_id=requester_id, search_provider=search_provider))[0]
            except NothingFound:
                log.info("no match for a song of a %s %s", link.service, link.kind)
                return None

    found = [track for track in await asyncio.gather(*(match(song) for song in songs)) if track is not None]
    if not found:
        raise NothingFound(MSG_NO_MATCH.format(service=link.service, site=site_name(search_provider)), detail=str(link.kind))
    return found
