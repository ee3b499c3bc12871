"""What slash-command options suggest while a member types: playlist names, and for `play` the tracks
this server played lately, its queue, its play history and its playlists. Nothing here looks anything up online; the
suggestions come from memory and the local store, so each keystroke costs no lookup.
"""

from __future__ import annotations

import collections
import logging
import time
import weakref
from collections.abc import Iterable
from typing import TYPE_CHECKING, NamedTuple

import discord
from discord import app_commands

from audio.errors import StoreError
from audio.events import PlayerEvent, TrackStarted
from audio.track import Track

if TYPE_CHECKING:
    from bot.bot import BrentBot
    from bot.store import Store

log = logging.getLogger(__name__)

MAX_CHOICES = 25  # Discord's limit
CHOICE_LIMIT = 100  # characters of a choice's name and of its value
RECENT = 25
PLAYLISTS_SUGGESTED = 5  # the first playlists (by name) whose tracks `play` suggests
PLAYLISTS_TTL = 30.0  # seconds a server's playlists are suggested as last read


class RecentTracks:
    """The last tracks that started in each server (a player event subscriber)."""

    def __init__(self) -> None:
        self._recent: dict[int, collections.deque[Track]] = {}

    def __call__(self, event: PlayerEvent) -> None:
        if isinstance(event, TrackStarted):
            recent = self._recent.setdefault(event.guild_id, collections.deque(maxlen=RECENT))
            if event.track in recent:
                recent.remove(event.track)
            recent.appendleft(event.track)

    def of(self, guild_id: int) -> list[Track]:
        return list(self._recent.get(guild_id, ()))

    def forget(self, guild_id: int) -> None:
        self._recent.pop(guild_id, None)


def matching(current: str, candidates: Iterable[tuple[str, str]]) -> list[app_commands.Choice[str]]:
    """(label, value) pairs whose label holds what was typed (case-insensitive), each value once."""
    typed = current.strip().casefold()
    seen: set[str] = set()
    found: list[app_commands.Choice[str]] = []
    for label, value in candidates:
        if value in seen or not label or not value or len(value) > CHOICE_LIMIT:
            continue
        if typed and typed not in label.casefold():
            continue
        seen.add(value)
        found.append(app_commands.Choice(name=label[:CHOICE_LIMIT], value=value))
        if len(found) == MAX_CHOICES:
            break
    return found


def _track_pair(track: Track) -> tuple[str, str]:
    value = track.page_url if len(track.page_url) <= CHOICE_LIMIT else track.title[:CHOICE_LIMIT]
    return track.title, value


class _Playlists(NamedTuple):
    read_at: float
    names: list[str]
    tracks: list[Track]  # of the first PLAYLISTS_SUGGESTED playlists


# Each store's servers' playlists as last read, so a keystroke reads the store at most once per PLAYLISTS_TTL;
# a playlist command forgets its server's (`forget_playlists`), so changes show at the next keystroke.
_read: weakref.WeakKeyDictionary[Store, dict[int, _Playlists]] = weakref.WeakKeyDictionary()


def forget_playlists(store: Store | None, guild_id: int) -> None:
    if store is not None:
        _read.get(store, {}).pop(guild_id, None)


async def _playlists(bot: BrentBot, guild_id: int) -> _Playlists:
    store = bot.store
    if store is None:
        return _Playlists(0.0, [], [])
    known = _read.setdefault(store, {})
    cached = known.get(guild_id)
    if cached is not None and time.monotonic() - cached.read_at < PLAYLISTS_TTL:
        return cached
    try:
        playlists = await store.list_playlists(guild_id)
        tracks: list[Track] = []
        for playlist in playlists[:PLAYLISTS_SUGGESTED]:
            tracks += (await store.playlist_tracks(guild_id, playlist.name))[1]
    except StoreError:
        log.debug("no playlists to suggest: the store is unavailable")
        return _Playlists(0.0, [], [])
    known[guild_id] = read = _Playlists(time.monotonic(), [p.name for p in playlists], tracks)
    return read


async def playlist_suggestions(interaction: discord.Interaction[BrentBot], current: str) -> list[app_commands.Choice[str]]:
    if interaction.guild_id is None:
        return []
    names = (await _playlists(interaction.client, interaction.guild_id)).names
    return matching(current, ((name, name) for name in names))


async def play_suggestions(interaction: discord.Interaction[BrentBot], current: str) -> list[app_commands.Choice[str]]:
    """Tracks that played here lately, newest first, then what is playing and queued, then the rest of
    the server's history (read from the store once per server, then kept in memory), then the tracks
    of its playlists (the local store, read again after a playlist command or PLAYLISTS_TTL; nothing online)."""
    bot, guild_id = interaction.client, interaction.guild_id
    if guild_id is None:
        return []
    tracks = list(bot.recent_tracks.of(guild_id))
    player = bot.players.get(guild_id)
    if player is not None:
        tracks += [t for t in (player.current, *player.queue) if t is not None]
    tracks += [entry.track for entry in await bot.queue_memory.history.recent(guild_id)]
    tracks += (await _playlists(bot, guild_id)).tracks
    return matching(current, (_track_pair(t) for t in tracks))
