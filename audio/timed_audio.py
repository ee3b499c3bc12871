"""An FFmpeg PCM source that knows where it is in the track, so seek/rewind/forward can work.

discord.py only ever asks a source for the next 20 ms frame; it has no idea of time. Counting the
frames we hand out (plus the offset ffmpeg was started at) gives the playback position without any
clock, and a seek is simply a new ffmpeg process started at another offset (``-ss`` before ``-i``
is fast input seeking, and accurate because ffmpeg still decodes up to the exact sample).

The argv comes from :mod:`audio.ffmpeg_args`, as a list, never through a shell.

The same frame count enforces a play limit: a live stream or a track of unknown length has no end
of its own, so the player gives it an absolute position after which :meth:`TimedAudio.read` ends
the stream. Counting here, rather than timing in the player, keeps the limit exact and makes it
hold for every way a source comes to be (fresh, standby, after a seek or a restart).
"""

from __future__ import annotations

import contextlib
import io
import logging
import math
import select
import subprocess
import threading
import time
from collections.abc import Mapping
from typing import IO, TYPE_CHECKING, Any, cast

import discord

from audio.errors import PlayerError
from audio.ffmpeg_args import DEFAULT_RW_TIMEOUT, ffmpeg_input_args, ffmpeg_output_args, yield_to_voice
from audio.filters import NO_FILTERS, Filters
from audio.track import Stream

if TYPE_CHECKING:
    from audio.ffmpeg_standby import FfmpegStandby

log = logging.getLogger(__name__)

FRAME_SECONDS = 0.02
FRAME_BYTES = 3840  # 20 ms of 48 kHz stereo s16le
SILENCE_FRAME = bytes(FRAME_BYTES)
# Seconds to wait for ffmpeg to exit after its output ended, so a failure is seen as one.
_EXIT_GRACE = 2.0
_CAN_POLL = hasattr(select, "poll")
PIPE_CHUNK = 65536  # a pipe's whole buffer: one read takes what ffmpeg wrote ahead (about 0.3 s)


class TimedAudio(discord.FFmpegPCMAudio):
    """A :class:`discord.FFmpegPCMAudio` that counts its frames and can be re-made at another offset.

    Parameters
    ----------
    stream:
        A fresh media URL (http or https only) and the headers the site expects.
    start:
        Offset in seconds where ffmpeg starts decoding; negative values mean 0.
    executable:
        The ffmpeg binary (``bot.native.find_ffmpeg()``).
    stderr:
        Where ffmpeg's stderr goes (the bot's ffmpeg log file); ``None`` inherits ours.
    rw_timeout:
        Seconds of network silence before ffmpeg gives up (and the track fails).
    standby:
        Already-running ffmpeg processes; used only when ``start`` is 0 (see audio/ffmpeg_standby.py).
    env:
        ffmpeg's environment; the bot passes the egress proxy's (:func:`audio.egress_proxy.ffmpeg_environment`)
        so every connection ffmpeg makes is checked. None inherits ours (tests on 127.0.0.1).
    play_limit:
        Seconds into the track (absolute, like :attr:`position`) after which :meth:`read` returns
        b"" and :attr:`limit_reached` is set; None plays to the stream's own end. A ``start`` at or
        past it ends at once.
    filters:
        Effects (``-af``); the position stays in track time when they change the tempo. A source
        with effects never takes a standby process (its output arguments have none).

    Raises
    ------
    PlayerError
        The stream URL is not http(s) or ``start`` is not a finite number.
    ValueError
        ``play_limit`` is negative or not finite.
    discord.ClientException
        ffmpeg could not be started (not found).
    """

    SILENCE = SILENCE_FRAME  # what a retired source gives a read in flight

    def __init__(
        self,
        stream: Stream,
        *,
        start: float = 0.0,
        executable: str = "ffmpeg",
        stderr: IO[bytes] | None = None,
        rw_timeout: float = DEFAULT_RW_TIMEOUT,
        standby: FfmpegStandby | None = None,
        env: Mapping[str, str] | None = None,
        play_limit: float | None = None,
        filters: Filters = NO_FILTERS,
    ) -> None:
        # Set before spawning: __del__ -> cleanup() may run on a half-built object.
        self._state_lock = threading.Lock()
        self._read_lock = threading.Lock()
        self._closed = False
        self._retired = False
        self._pending = bytearray()  # read from the pipe, not yet handed out
        self._eof = False
        self._eof_at = 0.0  # time.monotonic() when the end of the pipe was seen
        if not stream.url.lower().startswith(("http://", "https://")):
            raise PlayerError(
                "That stream can't be played.", detail="refused a stream URL that is not http(s)"
            )
        if not math.isfinite(start):
            raise PlayerError("That is not a time I can seek to.", detail=f"non-finite start {start!r}")
        self.stream = stream
        self.start = max(0.0, float(start))
        self.filters = filters
        self._frame_span = FRAME_SECONDS * filters.tempo  # seconds of track per frame handed out
        self.frames_read = 0
        self._play_limit: float | None = None
        self._frames_allowed: int | None = None
        self._limit_reached = False
        self.play_limit = play_limit
        self._executable = executable
        self._stderr_sink = stderr
        self._rw_timeout = rw_timeout
        self._env = dict(env) if env is not None else None
        # -ss is exact and the concat demuxer's inpoint is not, so only a start from 0 may use one.
        self._standby = standby if self.start == 0 and not filters.active else None
        self.from_standby = False
        args = ffmpeg_input_args(stream, start=self.start, rw_timeout=rw_timeout) + self._output_args()
        # FFmpegPCMAudio.__init__ would shlex-split option strings; FFmpegAudio takes our list as is.
        discord.FFmpegAudio.__init__(
            self,
            stream.url,
            executable=executable,
            args=args,
            stdin=subprocess.DEVNULL,
            stderr=stderr,
            env=self._env,
        )
        log.debug(
            "ffmpeg pid %s started at %.3f s (%s)",
            self.pid,
            self.start,
            "standby" if self.from_standby else "fresh",
        )

    @property
    def position(self) -> float:
        """Seconds into the track of the audio handed out so far."""
        return self.start + self.frames_read * self._frame_span

    @property
    def play_limit(self) -> float | None:
        """Where :meth:`read` ends the stream (seconds into the track), or None."""
        return self._play_limit

    @play_limit.setter
    def play_limit(self, seconds: float | None) -> None:
        # The player may lift it while discord's thread reads; read() looks at _frames_allowed only.
        if seconds is None:
            self._frames_allowed = None
        else:
            if not math.isfinite(seconds) or seconds < 0:
                raise ValueError(f"play limit must be a finite number of seconds >= 0, not {seconds!r}")
            # A whole number of frames, never past the limit (the epsilon absorbs float error).
            self._frames_allowed = max(0, math.floor((seconds - self.start) / self._frame_span + 1e-6))
        self._play_limit = None if seconds is None else float(seconds)

    @property
    def limit_reached(self) -> bool:
        """The play limit, not the stream, ended the output."""
        return self._limit_reached

    def _at_limit(self) -> bool:
        allowed = self._frames_allowed
        if allowed is None or self.frames_read < allowed:
            return False
        self._limit_reached = True
        return True

    @property
    def at_end(self) -> bool:
        """The output is over (the limit, or no whole frame left and the pipe closed): :meth:`read` returns b""."""
        if self._closed:
            return False
        return self._at_limit() or (self._eof and self._frames_buffered() == 0)

    @property
    def pid(self) -> int | None:
        process = getattr(self, "_process", None)
        return getattr(process, "pid", None)

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def error(self) -> Exception | None:
        """ffmpeg's failure (non-zero exit), once the output has ended.

        discord's AudioPlayer only looks for it on the source it plays, which for us is the
        PCMVolumeTransformer wrapper, so the player asks here instead.
        """
        return getattr(self, "_current_error", None)

    def at(self, offset: float, *, filters: Filters | None = None) -> TimedAudio:
        """A new source on the same stream starting at ``offset`` seconds (this one is untouched),
        with these or other ``filters``."""
        filters = self.filters if filters is None else filters
        return self._kind_for(filters)(
            self.stream,
            start=offset,
            executable=self._executable,
            stderr=self._stderr_sink,
            rw_timeout=self._rw_timeout,
            env=self._env,
            play_limit=self._play_limit,
            filters=filters,
        )

    def _kind_for(self, filters: Filters) -> type[TimedAudio]:
        """The class of a source :meth:`at` makes with ``filters``."""
        return TimedAudio

    def catch_up(self, position: float) -> bool:
        """Drop the frames before ``position`` that are already here, without waiting for more; for
        a source that takes over from another one mid-track (the deck's cue). True once it got
        there (or its output is over), False while ffmpeg has not decoded that far yet."""
        while self.position + self._frame_span / 2 < position:
            if not self.frame_ready():
                return False
            with self._read_lock:
                if not self._frames_buffered():
                    return True  # ready only because the output is over
                self._pop_frame()
                self.frames_read += 1
        return True

    def _output_args(self) -> list[str]:
        return ffmpeg_output_args(self.BLOCKSIZE, graph=self.filters.graph())

    def _frames_buffered(self) -> int:
        """Whole frames read from the pipe and not handed out yet (under ``_read_lock``, or a hint)."""
        return len(self._pending) // FRAME_BYTES

    def _pop_frame(self) -> bytes:
        """Under ``_read_lock``: the next whole frame, which :meth:`_frames_buffered` said is there."""
        data = bytes(self._pending[:FRAME_BYTES])
        del self._pending[:FRAME_BYTES]
        return data

    def _spawn_process(self, args: Any, **subprocess_kwargs: Any) -> subprocess.Popen[bytes]:
        """A standby process when one fits (same ffmpeg, same stderr sink); otherwise a fresh spawn."""
        standby = self._standby
        if standby is not None and not (
            standby.executable == self._executable
            and standby.stderr is self._stderr_sink
            and standby.env == self._env
        ):
            log.debug("ffmpeg standby runs another executable, log sink or environment; spawning fresh")
            standby = None
        if standby is not None:
            taken = standby.take(self.stream, output=self._output_args(), rw_timeout=self._rw_timeout)
            if taken is not None:
                self.from_standby = True
                return taken
        fresh: subprocess.Popen[bytes] = super()._spawn_process(args, **subprocess_kwargs)
        yield_to_voice(fresh.pid)
        return fresh

    def read(self) -> bytes:
        if self._closed:
            return self.SILENCE if self._retired else b""
        with self._read_lock:
            if self._at_limit():
                return b""  # ffmpeg is still running; cleanup() kills it
            try:
                while not self._frames_buffered() and not self._eof:
                    self._take_from_pipe()
            except (AttributeError, ValueError, OSError):
                self._end_seen()  # the pipe was torn down by cleanup() on another thread
            if self._frames_buffered():
                self.frames_read += 1
                return self._pop_frame()
            if self._closed:
                return self.SILENCE if self._retired else b""
            self._wait_for_exit()
            self._check_process_returncode()
            return b""

    def frame_ready(self) -> bool:
        """Would :meth:`read` return at once? A shared voice clock asks before reading, so a stream
        whose network stalled only skips its own packet instead of holding up every guild's.

        Without ``select.poll`` (Windows has none) it cannot tell and says yes: reads then block as
        discord.py's own player's do.
        """
        if self._closed or self._frames_buffered() >= 2 or not _CAN_POLL or self._at_limit():
            return True
        # With one frame left, look ahead: an end seen a frame early gives ffmpeg that long to exit,
        # so the hand-over to the next track does not wait a packet slot for its return code.
        with self._read_lock:
            if not self._eof:
                try:
                    fd = self._stdout.fileno()
                except (AttributeError, ValueError, OSError):
                    return True  # torn down by cleanup(): read() ends at once
                poller = select.poll()
                poller.register(fd, select.POLLIN)
                if poller.poll(0):
                    try:
                        self._take_from_pipe()  # readable: this read does not block
                    except (AttributeError, ValueError, OSError):
                        self._end_seen()
            if self._frames_buffered():
                return True
            if not self._eof:
                return False
            # At the end, wait for ffmpeg's exit (its return code tells a failure from an end) here,
            # for at most the exit grace, rather than blocking in read().
            process = getattr(self, "_process", None)
            return (
                not isinstance(process, subprocess.Popen)
                or process.poll() is not None
                or time.monotonic() - self._eof_at >= _EXIT_GRACE
            )

    def _end_seen(self) -> None:
        if not self._eof:
            self._eof = True
            self._eof_at = time.monotonic()

    def _take_from_pipe(self) -> None:
        """Under ``_read_lock``: one read of whatever the pipe holds (blocks only if it is empty)."""
        chunk = cast(io.BufferedReader, self._stdout).read1(PIPE_CHUNK)
        if chunk:
            self._pending += chunk
        else:
            self._end_seen()

    def abort(self) -> None:
        """Kill ffmpeg but leave the pipe to the reader: it sees the end (and the failed exit).

        For a stuck process: the player thread blocked in :meth:`read` wakes up, the track ends
        with an error as if ffmpeg had died, and the player's recovery takes over.
        """
        process = getattr(self, "_process", None)
        if isinstance(process, subprocess.Popen) and not self._closed:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            log.debug("ffmpeg pid %s killed after %d frames", process.pid, self.frames_read)

    def retire(self) -> None:
        """Clean up a source that was just swapped out of a running player (seek).

        The player thread may be inside :meth:`read` on this source at this very moment; that read
        then yields one frame of silence instead of end-of-stream, so discord's player carries on
        with the new source rather than ending the track.
        """
        self._retired = True
        self.cleanup()

    def cleanup(self) -> None:
        """Kill ffmpeg and close its pipe; safe to call twice and from any thread."""
        lock = getattr(self, "_state_lock", None)
        if lock is None:
            return
        with lock:
            if self._closed:
                return
            self._closed = True
        if getattr(self, "_process", None) is None:
            return  # spawning failed
        process = self._process
        pid = self.pid
        super().cleanup()  # kill, reap, drop references
        # The kill unblocked any read in flight, so this lock is only held for a moment.
        with self._read_lock:
            stdout = getattr(process, "stdout", None)
            if stdout is not None:
                stdout.close()
        log.debug("ffmpeg pid %s cleaned up after %d frames", pid, self.frames_read)

    def _wait_for_exit(self) -> None:
        """Give ffmpeg a moment to exit after EOF so its return code tells a failure from an end."""
        process = getattr(self, "_process", None)
        if not isinstance(process, subprocess.Popen):
            return
        try:
            process.wait(timeout=max(0.0, self._eof_at + _EXIT_GRACE - time.monotonic()))
        except subprocess.TimeoutExpired:
            log.warning("ffmpeg pid %s still running after its output ended", process.pid)
