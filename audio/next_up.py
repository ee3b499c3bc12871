"""The track after the current one, made ready ahead so it starts without a lookup and without a gap.

One entry at a time goes through explicit stages:

    FETCHING  its stream is being resolved (URLs expire, so this happens only once it is next)
    FETCHED   the stream is known; no ffmpeg yet
    STARTED   its ffmpeg runs (started a few seconds before the current track ends)
    ARMED     the deck holds that ffmpeg: the current track's end flows into it in the same read()

The player says what it wants with :meth:`NextUp.want` (a track, or None, and whether its ffmpeg
should run now), and a track that starts takes what was readied for it with :meth:`NextUp.take`
(claimed the moment it is placed in the buffer, so a queue edit meanwhile cannot drop it). Anything
no longer wanted is dropped at once and its ffmpeg killed; a lookup or spawn still in flight for it
finishes and throws its result away, so a late result never lands on the wrong track.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from audio.deck import Deck
from audio.errors import BrentError
from audio.sources import STREAM_EXPIRY_MARGIN, Sources, Tasks
from audio.timed_audio import TimedAudio
from audio.track import Stream, Track

log = logging.getLogger(__name__)

STREAM_MAX_AGE = 1800.0  # seconds a prefetched stream URL is trusted without an expiry hint
PRESTARTED_MAX_AGE = 30.0  # a pre-started ffmpeg older than this is not trusted to still be connected


class Stage(enum.Enum):
    FETCHING = "fetching"
    FETCHED = "fetched"
    STARTED = "started"
    ARMED = "armed"


@dataclass(eq=False)
class _Entry:
    track: Track
    start_wanted: bool = False  # run its ffmpeg as soon as the stream is known
    stream: Stream | None = None
    fetched_at: float = 0.0
    source: TimedAudio | None = None  # STARTED: ours; once ARMED the deck owns it
    started_at: float = 0.0
    deck: Deck | None = None
    task: asyncio.Task[None] | None = None  # a lookup or an ffmpeg start in flight

    @property
    def stage(self) -> Stage:
        if self.deck is not None:
            return Stage.ARMED
        if self.source is not None:
            return Stage.STARTED
        return Stage.FETCHED if self.stream is not None else Stage.FETCHING

    @property
    def fresh(self) -> bool:
        if self.stream is None or time.monotonic() - self.fetched_at > STREAM_MAX_AGE:
            return False
        expires = self.stream.expires_at
        return expires is None or time.time() < expires - STREAM_EXPIRY_MARGIN


class NextUp:
    """The next-track pipeline of one player.

    ``on_ready`` is called (on the loop) when a wanted entry's lookup or ffmpeg start completed, so
    the player can arm it if its deck is ready for it.
    """

    def __init__(
        self, sources: Sources, tasks: Tasks, *, guild_id: int, on_ready: Callable[[], None]
    ) -> None:
        self._sources = sources
        self._tasks = tasks
        self._guild_id = guild_id
        self._on_ready = on_ready
        self._entry: _Entry | None = None
        self._claimed: _Entry | None = None  # readied for the track that is starting now

    @property
    def track(self) -> Track | None:
        return self._entry.track if self._entry is not None else None

    @property
    def stage(self) -> Stage | None:
        return self._entry.stage if self._entry is not None else None

    def want(self, track: Track | None, *, start: bool = False) -> None:
        """``track`` plays next (None: nothing does); ``start``: its ffmpeg should run already."""
        entry = self._entry
        if entry is not None and entry.track is track:
            if start and entry.stage is Stage.FETCHED and entry.task is None:
                entry.start_wanted = True
                self._ready_in_background(entry)
            elif start:
                entry.start_wanted = True  # a lookup in flight starts it when done
            return
        self._drop()
        if track is not None:
            self._entry = _Entry(track, start_wanted=start)
            self._ready_in_background(self._entry)

    def claim(self, track: Track) -> None:
        """``track`` was placed in the buffer at 0 s: keep what was readied for it for :meth:`take`."""
        entry = self._entry
        if entry is None or entry.track is not track or entry.deck is not None:
            return
        self._forget_claimed()
        self._entry, self._claimed = None, entry

    async def take(self, track: Track, start: float) -> TimedAudio:
        """A running source for ``track``, which starts now: the claimed one if it is still good.

        A start elsewhere than 0 s only waits for a lookup of the same track to finish (looking it
        up twice at once would only add delay) and then spawns fresh: the readied ffmpeg is at 0 s.
        """
        claimed = self._claimed if self._claimed is not None and self._claimed.track is track else None
        waiting = claimed or (self._entry if self._entry is not None and self._entry.track is track else None)
        if waiting is not None and waiting.task is not None:
            await asyncio.shield(waiting.task)
        if claimed is None or claimed is not self._claimed or start != 0.0:
            return await self._sources.fresh(track, start)
        self._claimed, entry = None, claimed
        source = entry.source
        if source is not None and time.monotonic() - entry.started_at < PRESTARTED_MAX_AGE:
            return source
        if source is not None:
            await self._sources.discard(source)
        if entry.stream is not None and entry.fresh:
            return await self._sources.spawn(track, entry.stream, start)
        return await self._sources.fresh(track, start)

    def arm(self, deck: Deck, wanted: Track | None) -> None:
        """Give ``deck`` the started next ffmpeg, if it is still for ``wanted`` and the deck is free."""
        entry = self._entry
        if entry is None or entry.source is None or entry.deck is not None:
            return
        if entry.track is not wanted or deck.armed_track is not None:
            return
        deck.arm(entry.source, entry.track, started_at=entry.started_at, max_age=PRESTARTED_MAX_AGE)
        log.debug("guild %s: armed %r (ffmpeg pid %s)", self._guild_id, entry.track.title, entry.source.pid)
        entry.source, entry.deck = None, deck

    def handed_over(self) -> None:
        """The deck went on with the armed track, which is now the current one."""
        if self._entry is not None and self._entry.deck is not None:
            self._entry = None

    def disarm(self) -> None:
        """The deck is going, or its armed track is no longer next: kill the armed ffmpeg."""
        entry = self._entry
        if entry is None or entry.deck is None:
            return
        self._entry = None
        source = entry.deck.disarm()
        if source is not None:
            self._sources.discard_later(source)

    def drop_ffmpeg(self) -> None:
        """The current track is far from its end again (a seek back): a started next ffmpeg would
        idle for minutes, so it goes; a fetched stream stays."""
        entry = self._entry
        if entry is not None and entry.source is not None:
            source, entry.source = entry.source, None
            self._sources.discard_later(source)
        self.disarm()

    async def clear(self) -> None:
        """Forget the next track (stop, detach); its ffmpeg is dead when this returns."""
        self.disarm()
        self._forget_claimed()
        entry, self._entry = self._entry, None
        if entry is not None and entry.source is not None:
            source, entry.source = entry.source, None
            await self._sources.discard(source)

    def retitle(self, old: Track, new: Track) -> None:
        """The next (or the claimed) track got better details (see GuildPlayer.update_track)."""
        for entry in (self._entry, self._claimed):
            if entry is not None and entry.track is old:
                entry.track = new
                if entry.deck is not None:
                    entry.deck.retitle_armed(old, new)

    def _forget_claimed(self) -> None:
        entry, self._claimed = self._claimed, None
        if entry is not None and entry.source is not None:
            source, entry.source = entry.source, None
            self._sources.discard_later(source)

    def _drop(self) -> None:
        self.disarm()
        entry, self._entry = self._entry, None
        if entry is not None and entry.source is not None:
            source, entry.source = entry.source, None
            self._sources.discard_later(source)

    def _ready_in_background(self, entry: _Entry) -> None:
        entry.task = self._tasks.spawn(self._ready(entry), name=f"next-up-{self._guild_id}")

    async def _ready(self, entry: _Entry) -> None:
        """Resolve the entry's stream (again, if it went stale) and start its ffmpeg if wanted."""
        title = entry.track.title
        try:
            if not entry.fresh:
                stream = await self._sources.resolver.stream(entry.track)
                if entry.source is not None:  # running on the stale URL
                    source, entry.source = entry.source, None
                    await self._sources.discard(source)
                entry.stream, entry.fetched_at = stream, time.monotonic()
            if entry.start_wanted and entry.source is None and entry.stream is not None:
                entry.source = await self._sources.spawn(entry.track, entry.stream, 0.0)
                entry.started_at = time.monotonic()
        except Exception as exc:
            # Not fatal: the track is resolved again when its turn comes, and fails then.
            if isinstance(exc, BrentError):
                log.info("guild %s: prefetch of %r failed: %s", self._guild_id, title, exc)
            else:
                log.exception("guild %s: prefetch of %r failed", self._guild_id, title)
            if entry is self._entry and entry.stream is None:
                self._entry = None  # the next want() looks it up again
            return
        finally:
            entry.task = None
        if self._tasks.closed or (entry is not self._entry and entry is not self._claimed):
            if entry.source is not None:
                source, entry.source = entry.source, None
                await self._sources.discard(source)
            return
        log.debug(
            "guild %s: prepared %r (ffmpeg started: %s)", self._guild_id, title, entry.source is not None
        )
        self._on_ready()
