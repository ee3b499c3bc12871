"""The knobs of a GuildPlayer, in one mutable object its parts share and read when they need them.

Mutable on purpose: the fault tests tighten a live player's timeouts, and every part reads the
value at the moment it acts, so a change applies from the next ffmpeg, wait or check on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

from audio.ffmpeg_args import DEFAULT_RW_TIMEOUT

if TYPE_CHECKING:
    from audio.ffmpeg_standby import FfmpegStandby

PRESTART_LEAD = 3.0  # start the next ffmpeg this many seconds before the current track ends
CHECKPOINT_INTERVAL = 15.0  # StateChanged while playing, so a saved position stays recent
RECOVERY_ATTEMPTS = 2  # fresh-stream restarts per track after its source broke off mid-way
END_TOLERANCE = 1.5  # a source ending this close to the known duration simply finished
STALL_TIMEOUT = 10.0  # seconds of no progress while playing before ffmpeg is presumed stuck
RECONNECT_WAIT = 30.0  # how long a track cut off by a voice drop waits for the reconnect


@dataclass(slots=True)
class PlayerOptions:
    """How a GuildPlayer runs ffmpeg, when it works ahead, and how it recovers.

    ffmpeg, ffmpeg_stderr, ffmpeg_env:
        The binary, where its stderr goes (the bot's ffmpeg log), and its environment: the egress
        proxy's, so every connection it makes is checked (None inherits ours, for tests).
    standby:
        Already-running ffmpeg processes shared by the bot's players; a track that starts at 0 s
        takes one instead of paying for a process start.
    prestart_lead:
        Seconds before the end of the current track at which the next one's ffmpeg starts.
    checkpoint_interval:
        While a track plays, a StateChanged this often (position checkpoints).
    rw_timeout:
        Seconds of network silence after which ffmpeg gives up on a source.
    recovery_attempts, end_tolerance:
        A source that ends more than ``end_tolerance`` seconds before the track's known duration
        broke off: the track restarts where it was on a freshly resolved stream, at most
        ``recovery_attempts`` times; then it fails.
    stall_timeout:
        A source whose position has not moved for this long while playing (not paused, voice
        connected) is killed, which lands in the same recovery; 0 turns the watch off.
    reconnect_wait:
        A source cut off while the voice connection is down waits this long for the reconnect
        and then resumes at its position; otherwise the player detaches (queue kept).
    opus_passthrough:
        An Opus stream at 100 % and without filters has its packets copied to Discord instead of
        being decoded and encoded again (audio/timed_opus.py).
    max_live_duration, max_unknown_duration:
        Seconds a live stream, and any other track whose length is unknown, may play before it
        ends with TIME_LIMIT (None: no cap). A track of known length was held to the length cap
        when it was queued.
    """

    ffmpeg: str = "ffmpeg"
    ffmpeg_stderr: IO[bytes] | None = None
    ffmpeg_env: Mapping[str, str] | None = None
    standby: FfmpegStandby | None = None
    prestart_lead: float = PRESTART_LEAD
    checkpoint_interval: float = CHECKPOINT_INTERVAL
    rw_timeout: float = DEFAULT_RW_TIMEOUT
    recovery_attempts: int = RECOVERY_ATTEMPTS
    end_tolerance: float = END_TOLERANCE
    stall_timeout: float = STALL_TIMEOUT
    reconnect_wait: float = RECONNECT_WAIT
    max_live_duration: float | None = None
    max_unknown_duration: float | None = None
    opus_passthrough: bool = True
