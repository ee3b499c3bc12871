"""A pasted audio file link starts opening while yt-dlp is still looking it up.

For a link to a file, yt-dlp's answer is the link itself, and its lookup (a request through the
egress gate and yt-dlp's processing, ~10 ms in a warm worker) and ffmpeg's opening of the stream
(another request through the gate, probing, the first decoded frame, ~10 ms) would otherwise
follow each other. Here the bot's waiting standby ffmpeg gets the link first, and the lookup runs
meanwhile; when the resolved track starts, :meth:`audio.ffmpeg_standby.FfmpegStandby.take` hands
out that process if the stream is the same request, and otherwise it is killed when the ``play``
is done. Only when the track would start at once, from 0:00, decoded to PCM (the output the
opened-ahead process is given): nothing playing or queued, no effects on, and an extension that is
never Opus; and only
for a lookup the caps let in (``play_request`` opens it inside its lookup slot).
Nothing is fetched that the lookup would not fetch: the link passes every check of the URL policy
that needs no name lookup first, and the connection goes through the egress gate like any other.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import urllib.parse
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import discord

from audio.extractor.query import unwrap_angle_brackets
from audio.ffmpeg_args import DEFAULT_RW_TIMEOUT
from audio.track import Stream
from audio.url_policy import AUDIO_EXTENSIONS, path_extension

if TYPE_CHECKING:
    from bot.bot import BrentBot

log = logging.getLogger(__name__)

# Files that always decode to PCM; the others may be Opus, copied by a process with another output.
PCM_EXTENSIONS = AUDIO_EXTENSIONS - {"opus", "ogg", "webm", "mka"}


@contextlib.asynccontextmanager
async def head_start(bot: BrentBot, guild: discord.Guild, query: str) -> AsyncIterator[None]:
    """Open ``query``'s file ahead for the body (the lookup and queueing), and drop it afterwards
    if the track did not take it."""
    standby = bot.ffmpeg_standby
    url = unwrap_angle_brackets(query.strip())
    player = bot.players.get(guild.id)
    rw_timeout = player.options.rw_timeout if player is not None else DEFAULT_RW_TIMEOUT
    stream = Stream(url=url, http_headers={})
    opened = (
        standby is not None
        and _is_pcm_file(url)
        and (player is None or (player.current is None and not player.queue and not player.filters.active))
        and bot.extractor.policy.direct_file_without_lookup(url)
        and standby.open_ahead(stream, rw_timeout=rw_timeout)
    )
    try:
        yield
    finally:
        if opened and standby is not None:
            await asyncio.to_thread(standby.discard_ahead, stream, rw_timeout=rw_timeout)


def _is_pcm_file(url: str) -> bool:
    try:
        path = urllib.parse.urlsplit(url).path
    except ValueError:
        return False
    return path_extension(path) in PCM_EXTENSIONS
