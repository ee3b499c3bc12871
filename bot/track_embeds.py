"""The embeds that show tracks: now playing (the controller's and `np`'s), the queue, search results.

Each is built from a frozen snapshot, so what a message shows is one moment of the player, and the
builders are tested without Discord. Every title, uploader and name from outside goes through
``safe_text``; links are used only when they are http(s), since Discord refuses a message whose
embed URL it cannot read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import discord

from audio.loop_mode import LoopMode, following
from audio.player import GuildPlayer
from audio.queue import QueuePage
from audio.track import Track
from bot.text import EMBED_TITLE_LIMIT, describe, format_duration, progress_bar, safe_text

LIVE_COLOUR = discord.Colour.green()
HELD_COLOUR = discord.Colour.light_grey()
LIST_COLOUR = discord.Colour.blurple()
URL_LIMIT = 2000


@dataclass(frozen=True, slots=True)
class NowPlaying:
    """One moment of a guild's player, as much as a now-playing message shows."""

    track: Track | None
    position: float
    paused: bool
    loop: LoopMode
    volume: int
    next_up: Track | None
    waiting: int  # tracks in the queue

    @classmethod
    def of(cls, player: GuildPlayer) -> NowPlaying:
        current = player.current
        return cls(
            track=current,
            position=player.position or 0.0,
            paused=player.is_paused,
            loop=player.loop_mode,
            volume=player.volume,
            next_up=following(player.queue, current, player.loop_mode),
            waiting=len(player.queue),
        )


def web_link(url: str | None) -> str | None:
    if url is None or len(url) > URL_LIMIT or not url.startswith(("https://", "http://")):
        return None
    return url


def _track_embed(track: Track, colour: discord.Colour) -> discord.Embed:
    embed = discord.Embed(
        title=safe_text(track.title, EMBED_TITLE_LIMIT, single_line=True) or "untitled",
        url=web_link(track.page_url),
        colour=colour,
    )
    if track.uploader:
        embed.description = f"by {safe_text(track.uploader, 200, single_line=True)}"
    if (thumbnail := web_link(track.thumbnail)) is not None:
        embed.set_thumbnail(url=thumbnail)
    return embed


def now_playing_embed(now: NowPlaying) -> discord.Embed:
    """Title (linked), uploader, length, who asked, thumbnail, position, what is next."""
    track = now.track
    if track is None:
        return discord.Embed(description="Nothing is on right now.", colour=HELD_COLOUR)
    embed = _track_embed(track, HELD_COLOUR if now.paused else LIVE_COLOUR)
    length = "live" if track.live else "unknown" if track.duration is None else format_duration(track.duration)
    embed.add_field(name="Length", value=length)
    embed.add_field(name="Asked by", value=f"<@{track.requester_id}>" if track.requester_id else "the bot")
    embed.add_field(name="Volume", value=f"{now.volume}%")
    held = " · paused" if now.paused else ""
    bar = progress_bar(now.position, track.duration)
    of = "" if track.duration is None else f" / {format_duration(track.duration)}"
    embed.add_field(name="Position", value=f"`{bar}` {format_duration(now.position)}{of}{held}", inline=False)
    embed.add_field(name="Next", value=_next_line(now), inline=False)
    embed.set_footer(text=f"Loop {now.loop.value} · {now.waiting} in the queue")
    return embed


def _next_line(now: NowPlaying) -> str:
    if now.next_up is None:
        return "Nothing after this one."
    if now.loop is LoopMode.TRACK and now.next_up is now.track:
        return "This one again (loop track)."
    more = now.waiting - 1 if now.next_up is not now.track else now.waiting
    return describe(now.next_up) + (f" and {more} more" if more > 0 else "")


def finished_embed(last: Track | None, *, why: str) -> discord.Embed:
    """The controller's last state: the track it showed last, and why nothing follows."""
    line = f"Finished: {why}"
    if last is None:
        return discord.Embed(description=line, colour=HELD_COLOUR)
    embed = _track_embed(last, HELD_COLOUR)
    embed.description = f"{embed.description}\n{line}" if embed.description else line
    return embed


def queue_embed(
    current: Track | None, listing: QueuePage | None, total_seconds: float, turn: str | None = None
) -> discord.Embed:
    """The track on now and one page of what follows (``listing`` None: the queue is empty), then
    ``turn``: the queue mode and whose turn is next."""
    lines: list[str] = []
    if current is not None:
        lines.append(f"Now: {describe(current)}")
    if listing is None:
        lines.append("The queue is empty.")
    else:
        lines.append(
            f"Up next ({listing.total} tracks, {format_duration(total_seconds)}), "
            f"page {listing.number}/{listing.pages}:"
        )
        lines.extend(f"`{listing.start + offset}.` {describe(track)}" for offset, track in enumerate(listing.tracks))
        if turn is not None:
            lines.append(turn)
    return discord.Embed(title="Queue", description="\n".join(lines), colour=LIST_COLOUR)


def search_embed(tracks: Sequence[Track], timeout: float) -> discord.Embed:
    lines = [f"`{i}.` {describe(t)}" for i, t in enumerate(tracks, 1)]
    embed = discord.Embed(title="Search results", description="\n".join(lines), colour=LIST_COLOUR)
    embed.set_footer(text=f"Reply with 1-{len(tracks)} or cancel within {timeout:.0f} s.")
    return embed
