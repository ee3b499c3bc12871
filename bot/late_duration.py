"""Queue first, measure after: a direct audio file starts playing before ffprobe says how long it is.

yt-dlp does not know a direct file's length; ffprobe does, but a process start is most of the time
to the first voice packet. So ``play`` queues the track (which may start it), then measures, swaps
the measured track in wherever the player holds it, and only then applies the length cap: a track
over it is skipped or taken out of the queue again, and the member gets the refusal admission
would have given.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from audio.errors import LimitReached
from audio.player import GuildPlayer
from audio.track import Track
from bot.admission import Limits, too_long, too_long_refusal

log = logging.getLogger(__name__)

Measure = Callable[[Track], Awaitable[Track]]

FIRST_FRAME_WAIT = 0.5  # seconds a measure waits for the track it measures to be heard first
FIRST_FRAME_POLL = 0.005


@dataclass(frozen=True, slots=True)
class Enqueued:
    """What a queueing reply needs: the tracks as they stand now, measured, over-cap ones gone."""

    tracks: tuple[Track, ...]
    position: int  # as GuildPlayer.enqueue returned it: 0 when the first one started at once
    refusal: LimitReached | None = None  # every track was over the cap once measured


async def enqueue_then_measure(
    player: GuildPlayer,
    tracks: Sequence[Track],
    *,
    needs_measuring: Callable[[Track], bool],
    measure: Measure,
    limits: Limits,
    start_at: float = 0.0,
    front: bool = False,
) -> Enqueued:
    """Enqueue ``tracks`` (admitted already; ``front``: ahead of the queue), then measure those that
    need it, concurrently.

    A failed measure keeps the track as it was (length unknown): the queue and playback never
    depend on it.
    """
    position = player.enqueue(tracks, next_up=front, start_at=start_at)
    if position == 0 and tracks and needs_measuring(tracks[0]):
        await _first_frame_out(player, tracks[0])
    measured = await measure_in_place(player, tracks, needs_measuring=needs_measuring, measure=measure)
    kept: list[Track] = []
    for track in tracks:
        now = measured.get(id(track), track)
        if too_long(now, limits):
            await _take_out(player, now)
        else:
            kept.append(now)
    if tracks and not kept:
        return Enqueued((), position, too_long_refusal(limits))
    return Enqueued(tuple(kept), position)


async def _first_frame_out(player: GuildPlayer, track: Track) -> None:
    """Until ``track`` has sent its first frame (or FIRST_FRAME_WAIT passed): an ffprobe started at the
    same moment competes for the cores with the ffmpeg that is opening the stream."""
    deadline = asyncio.get_running_loop().time() + FIRST_FRAME_WAIT
    while player.current is track and not player.position and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(FIRST_FRAME_POLL)


async def measure_in_place(
    player: GuildPlayer, tracks: Sequence[Track], *, needs_measuring: Callable[[Track], bool], measure: Measure
) -> dict[int, Track]:
    """Measure the tracks that need it, concurrently, and swap each result in wherever the player holds it.

    Returns the measured tracks by ``id()`` of the track they replace. A failed measure keeps the
    track as it was (length unknown): the queue and playback never depend on it.
    """
    pending = [track for track in tracks if needs_measuring(track)]
    if not pending:
        return {}
    outcomes = await asyncio.gather(*(measure(track) for track in pending), return_exceptions=True)
    measured: dict[int, Track] = {}
    for old, outcome in zip(pending, outcomes, strict=True):
        if isinstance(outcome, BaseException):
            if isinstance(outcome, asyncio.CancelledError):
                raise outcome
            log.warning("guild %s: measuring %r failed; its length stays unknown", player.guild_id, old.title,
                        exc_info=outcome)
            continue
        if outcome is not old:
            player.update_track(old, outcome)
            measured[id(old)] = outcome
    return measured


async def _take_out(player: GuildPlayer, track: Track) -> None:
    """Skip ``track`` if it is playing, else remove this very object from the queue (if still there)."""
    if player.current is track:
        player.skip()
    else:
        player.queue.discard(track)
