"""A member's `play` (or `playnext`): look the words or link up while joining voice, then queue.

The lookup runs beside the voice handshake and other members' lookups; the queue still gets the
tracks in the order the commands came (the arrival turn is taken first), through ``queue_for``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from typing import TYPE_CHECKING

import discord

from audio.errors import BrentError
from audio.extractor.music_links import link_matches
from audio.extractor.music_pages import music_link
from audio.extractor.query import unwrap_angle_brackets
from audio.extractor.sites import site_name
from audio.extractor.stand_in import link_title, refused_by_youtube, soundcloud_match
from audio.player import GuildPlayer
from audio.track import Provider, Track
from bot.checks import member_voice_channel
from bot.head_start import head_start
from bot.queueing import Queued, queue_for
from bot.text import describe, safe_text

if TYPE_CHECKING:
    from bot.bot import BrentBot

log = logging.getLogger(__name__)


def _log_connect_failure(task: asyncio.Future[GuildPlayer]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.info("voice connection for a failed play did not complete: %s", task.exception())


async def look_up_and_queue(
    bot: BrentBot,
    *,
    guild: discord.Guild,
    author: discord.abc.User,
    text_channel_id: int,
    query: str,
    front: bool = False,
) -> Queued:
    """Resolve ``query`` for ``author`` and queue what it names (``front``: ahead of the queue)."""
    channel = member_voice_channel(author)
    async with bot.arrival_order.turn(guild.id) as turn, contextlib.AsyncExitStack() as until_queued:
        async with bot.extraction_slots.take(guild.id, author.id):
            # Only a lookup let in opens its link ahead; it stays open until the track is queued.
            await until_queued.enter_async_context(head_start(bot, guild, query))
            connecting = asyncio.ensure_future(bot.voice_connector.connect(guild, channel))
            try:
                tracks, note = await _resolve(bot, guild, author.id, query)
            except BaseException:
                # Cancelling a voice handshake half-way breaks discord.py's socket; let it finish
                # (the idle timer leaves later if nothing gets played) and keep its error quiet.
                connecting.add_done_callback(_log_connect_failure)
                raise
            await connecting
        queued = await queue_for(
            bot, turn, guild=guild, voice_channel=channel, text_channel_id=text_channel_id,
            requester_id=author.id, tracks=tracks, connecting=connecting, front=front,
        )  # fmt: skip
    if queued.refusal is not None:
        raise queued.refusal
    return dataclasses.replace(queued, note=note)


async def _resolve(bot: BrentBot, guild: discord.Guild, member_id: int, query: str) -> tuple[list[Track], str | None]:
    """The tracks ``query`` names, and a note when they are matches rather than what was linked: a
    Spotify, Apple Music or Deezer link's songs on the search site, a refused YouTube link's on SoundCloud."""
    extractor = bot.extractor
    provider = bot.guild_settings.get(guild.id).search_provider
    if (music := music_link(query)) is not None:
        tracks = await link_matches(
            extractor, music, search_provider=provider, requester_id=member_id, limit=bot.settings.playlist_limit
        )
        what = f"the {music.service} {music.kind}"
        found = "A match" if len(tracks) == 1 else "Matches"
        return tracks, f"{found} on {site_name(provider)} for {what}, not the original."
    try:
        return await extractor.resolve_all(query, requester_id=member_id, search_provider=provider), None
    except BrentError as exc:
        link = unwrap_angle_brackets(query.strip())
        if not refused_by_youtube(exc) or extractor.policy.provider_of(link) is not Provider.YOUTUBE:
            raise
        log.info("guild %s: YouTube refused a link (%s); looking for a SoundCloud match", guild.id, exc)
        title, artist = await link_title(extractor, link)
        match = await soundcloud_match(extractor, title, artist, member_id)
        return [match], f"YouTube refused **{safe_text(title, 200)}**, so this is a match from SoundCloud."


def queued_reply(queued: Queued) -> str | None:
    """What the member is told; None when the one track already ended while it was measured."""
    reply = _placed_reply(queued)
    if reply is None or queued.note is None:
        return reply
    return f"{queued.note} {reply}"


def _placed_reply(queued: Queued) -> str | None:
    tracks, position, player = queued.tracks, queued.position, queued.player
    if len(tracks) > 1:
        where = " next" if position == 1 else ""
        return f"Queued {len(tracks)} tracks{where}, starting with {describe(tracks[0])}."
    if position == 0:
        current = player.current
        if current is None or current.page_url != tracks[0].page_url:
            return None  # the announcer said why if it failed
        return f"Playing {describe(tracks[0])}."
    return f"Queued {describe(tracks[0])} at #{position}."
