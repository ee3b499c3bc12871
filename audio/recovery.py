"""How a GuildPlayer reads the end of a source, and the watches that end a stuck one or wait for voice.

:func:`classify_end` is pure: given what a source knew when it stopped, it says whether the track
finished, hit its time cap, failed, broke off and should restart where it was, or was cut by a voice
drop and should wait for the reconnect. The deck asks it on the voice clock's thread (does the armed
next track follow?) and the player on the loop (what now?), so both agree by construction.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from audio.errors import PlayerError
from audio.events import EndReason, PlayLimitReached
from audio.options import PlayerOptions
from audio.sources import VoiceTarget, playback_error
from audio.timed_audio import TimedAudio
from audio.track import Track

log = logging.getLogger(__name__)

RECONNECT_POLL = 0.1  # VoiceTarget offers no async "connected" event


@dataclass(frozen=True, slots=True)
class SourceEnd:
    """What a source knew when its output ended: all :func:`classify_end` looks at."""

    position: float
    start: float
    frames_read: int
    live: bool
    error: Exception | None = None
    limit_reached: bool = False
    play_limit: float | None = None

    @classmethod
    def of(cls, source: TimedAudio, error: Exception | None = None) -> SourceEnd:
        """``error`` is what discord reported; it misses ffmpeg's own behind the volume wrapper."""
        return cls(
            position=source.position,
            start=source.start,
            frames_read=source.frames_read,
            live=source.stream.is_live,
            error=error if error is not None else source.error,
            limit_reached=source.limit_reached,
            play_limit=source.play_limit,
        )


@dataclass(frozen=True, slots=True)
class Ended:
    """The track is over: FINISHED, FAILED (``error`` says why) or TIME_LIMIT (a PlayLimitReached)."""

    reason: EndReason
    error: Exception | None = None


@dataclass(frozen=True, slots=True)
class RestartAt:
    """The source broke off mid-way: play the track again from ``position`` on a fresh stream."""

    position: float


@dataclass(frozen=True, slots=True)
class AwaitReconnect:
    """The voice connection dropped under a healthy source: go on at ``position`` once it is back."""

    position: float


Verdict = Ended | RestartAt | AwaitReconnect


def classify_end(
    duration: float | None,
    end: SourceEnd,
    *,
    recoveries: int,
    options: PlayerOptions,
    voice_connected: bool,
) -> Verdict:
    """What the end of a source of a track lasting ``duration`` means, after ``recoveries`` restarts."""
    if end.error is None and end.limit_reached and end.play_limit is not None:
        return Ended(EndReason.TIME_LIMIT, PlayLimitReached(end.play_limit, live=end.live))
    if broke_off(duration, end, recoveries=recoveries, end_tolerance=options.end_tolerance):
        if not voice_connected:
            # discord's player gave up waiting for the voice reconnect; the audio itself is fine.
            return AwaitReconnect(end.position)
        if recoveries < options.recovery_attempts:
            return RestartAt(end.position)
        why = end.error or "early end"
        failure = PlayerError(
            "The stream kept breaking off, so I skipped it.",
            detail=f"broke off at {end.position:.1f} s after {recoveries} restarts: {why}",
        )
        failure.__cause__ = end.error
        return Ended(EndReason.FAILED, failure)
    if end.error is not None:
        return Ended(EndReason.FAILED, playback_error(end.error))
    return Ended(EndReason.FINISHED)


def finished(duration: float | None, source: TimedAudio, *, recoveries: int, options: PlayerOptions) -> bool:
    """Did ``source`` end as the track's own end (no failure, no cap, no break)? Only then does the
    deck go on with the armed next track; anything else ends the voice play for the player to read."""
    verdict = classify_end(
        duration, SourceEnd.of(source), recoveries=recoveries, options=options, voice_connected=True
    )
    return isinstance(verdict, Ended) and verdict.reason is EndReason.FINISHED


def broke_off(duration: float | None, end: SourceEnd, *, recoveries: int, end_tolerance: float) -> bool:
    """Did the source end well before the track's end, after the track had been playing?

    A source that never gave a frame on its first try (404, refused, timeout) is a plain failure,
    not a break: retrying it would only repeat the wait. Without a known end there is no "early".
    """
    if duration is None or end.live:
        return False
    if end.frames_read == 0 and recoveries == 0 and end.start == 0.0:
        return False
    return end.position < duration - end_tolerance


def log_verdict(guild_id: int, track: Track, verdict: Verdict, recoveries: int, attempts: int) -> None:
    match verdict:
        case AwaitReconnect(position):
            log.info("guild %s: %r cut off by a voice drop at %.1f s", guild_id, track.title, position)
        case RestartAt(position):
            log.warning(
                "guild %s: %r broke off at %.1f s of %.1f s; restart %d of %d on a fresh stream",
                guild_id, track.title, position, track.duration, recoveries + 1, attempts,
            )  # fmt: skip
        case Ended(EndReason.TIME_LIMIT, PlayLimitReached() as cap):
            log_cap(guild_id, track, cap)
        case Ended(EndReason.FAILED, error):
            log.warning("guild %s: %r ended with an error: %s", guild_id, track.title, error)


def log_cap(guild_id: int, track: Track, cap: PlayLimitReached) -> None:
    log.info(
        "guild %s: %r stopped at its %s cap of %.1f s",
        guild_id, track.title, "live stream" if cap.live else "unknown length", cap.limit,
    )  # fmt: skip


class StallWatch:
    """Kills a source whose position stopped moving while it should be playing (a stuck ffmpeg).

    Paused, disconnected or not playing is waiting, not stalling. The kill lands in the same
    recovery as a source that died (the end is classified like any other).
    """

    def __init__(self, timeout: float, now: float) -> None:
        self.timeout = timeout
        self.due = now + timeout / 4  # when to look next
        self._watched: TimedAudio | None = None
        self._last_position = -1.0
        self._last_move = now

    async def check(
        self, source: TimedAudio | None, voice: VoiceTarget | None, *, guild_id: int
    ) -> StallWatch | None:
        """Look once; None when the watch is over: the source was stuck and has been killed, or
        there is nothing left to watch."""
        if source is None or voice is None:
            return None
        now = asyncio.get_running_loop().time()
        self.due = now + self.timeout / 4
        moving = source is not self._watched or source.position != self._last_position
        waiting = not voice.is_connected() or voice.is_paused() or not voice.is_playing()
        if moving or waiting:
            self._watched, self._last_position, self._last_move = source, source.position, now
            return self
        if now - self._last_move < self.timeout:
            return self
        log.warning(
            "guild %s: no progress for %.0f s at %.1f s; killing ffmpeg pid %s",
            guild_id, now - self._last_move, source.position, source.pid,
        )  # fmt: skip
        await asyncio.to_thread(source.abort)
        return None


async def voice_returns(
    voice: Callable[[], VoiceTarget | None], wait: float, *, still_wanted: Callable[[], bool]
) -> bool | None:
    """True once the voice connection is back, False when ``wait`` seconds passed first.

    None when the answer no longer matters: the track moved on, or the voice was detached (the
    voice cog has dealt with it).
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while still_wanted():
        target = voice()
        if target is None:
            return None
        if target.is_connected():
            return True
        if loop.time() >= deadline:
            return False
        await asyncio.sleep(RECONNECT_POLL)
    return None
