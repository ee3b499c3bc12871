"""Already-running ffmpeg processes, so a track starting from its beginning skips the process start.

Starting ffmpeg costs ~70-85 ms (mostly dynamic loading of its libraries) before the first
frame, which is most of the ``play`` latency budget. A standby process is started ahead of time
with the concat demuxer reading an ffconcat script (:mod:`audio.ffconcat`) from its stdin; ``take``
writes a one-file script for the stream, closes stdin, and the process is from then on an ordinary
pipe. The output is the same: with one file and no ``inpoint`` the concat demuxer only passes the
inner demuxer's packets through (shifted by the file's start time, exactly like ffmpeg's own
input offset), which the tests check byte for byte. Seeks keep the fresh ``-ss`` path, because
concat's ``inpoint`` is less exact.

Processes wait with one of two outputs, ``size`` of each kind the standby was made for: PCM
(:data:`PCM_OUTPUT`, TimedAudio's) and the stream's own Opus packets in Ogg (:data:`OPUS_OUTPUT`,
TimedOpus's); a source takes only a process with its own output arguments.

A pasted audio file link may also be *opened ahead* (:meth:`FfmpegStandby.open_ahead`): a waiting
process gets the link's script while yt-dlp is still looking it up, so the stream's opening and the
lookup overlap. The process is handed out by ``take`` only for a stream that asks for exactly that
request: the same URL and no header but yt-dlp's generic ones (a browser User-Agent among them, which
the early request does not send); anything else leaves it to be discarded.

The outer process needs ``pipe`` in its protocol whitelist to read the script and ``concat`` as its
only format; each file gets its own ``protocol_whitelist`` and ``format_whitelist`` options (the
fresh path's lists) so the inner open, and everything it opens in turn, can use neither.
"""

from __future__ import annotations

import contextlib
import logging
import math
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from typing import IO

from audio.ffconcat import concat_script, generic_request
from audio.ffmpeg_args import (
    DEFAULT_RW_TIMEOUT,
    PROTOCOL_WHITELIST,
    ffmpeg_output_args,
    opus_copy_args,
    yield_to_voice,
)
from audio.timed_audio import TimedAudio
from audio.track import Stream

log = logging.getLogger(__name__)

_OUTER_WHITELIST = "pipe," + PROTOCOL_WHITELIST
PCM_OUTPUT: tuple[str, ...] = tuple(ffmpeg_output_args(TimedAudio.BLOCKSIZE))
OPUS_OUTPUT: tuple[str, ...] = tuple(opus_copy_args())
# A replacement starts this long after a hand-out: a process start is 70-90 ms of a core's time
# (loading ffmpeg's libraries), which would compete with the handed-out process while it opens its
# stream and decodes its first frame.
REFILL_DELAY = 0.3
AHEAD_LIFETIME = 30.0  # seconds an opened-ahead process waits for its lookup before it is killed
_CREATIONFLAGS = 0x08000000 if sys.platform == "win32" else 0  # CREATE_NO_WINDOW, as discord.py


def standby_args(executable: str, output: Sequence[str] = PCM_OUTPUT) -> list[str]:
    """A concat demuxer reading its script from stdin, with a source's exact output arguments."""
    return [
        executable,
        "-nostdin",
        "-f", "concat",
        "-safe", "0",
        "-protocol_whitelist", _OUTER_WHITELIST,
        "-format_whitelist", "concat",
        "-i", "pipe:0",
        *output,
    ]  # fmt: skip


class FfmpegStandby:
    """Keeps ``size`` ffmpeg processes waiting for a script; shared by every player of the bot.

    Spawning happens on one background thread (it blocks for the process start), so neither the
    event loop nor a player waiting for its source pays for it. ``take`` and ``close`` may be called
    from any thread.

    Parameters
    ----------
    executable:
        The ffmpeg binary; TimedAudio uses a standby only when it was given the same one.
    stderr:
        Where the processes' stderr goes (the bot's ffmpeg log); must be a real file or None.
    size:
        How many processes of each output to keep waiting (0 keeps none).
    env:
        The processes' environment (the egress proxy's); TimedAudio uses a standby only with the same.
    outputs:
        The output arguments processes wait with (:data:`PCM_OUTPUT`, :data:`OPUS_OUTPUT`); the
        refill starts the first kind that is short, so list first the one wanted soonest.
    """

    def __init__(
        self,
        executable: str = "ffmpeg",
        *,
        stderr: IO[bytes] | None = None,
        size: int = 1,
        env: Mapping[str, str] | None = None,
        outputs: Sequence[Sequence[str]] = (PCM_OUTPUT,),
    ) -> None:
        self.executable = executable
        self.stderr = stderr
        self.env = dict(env) if env is not None else None
        self.size = max(0, int(size))
        self._ready: dict[tuple[str, ...], list[subprocess.Popen[bytes]]] = {tuple(o): [] for o in outputs}
        self._ahead: dict[str, tuple[subprocess.Popen[bytes], float]] = {}  # script -> (process, monotonic)
        self._changed = threading.Condition()
        self._closed = False
        self._handed_out_at = -math.inf  # time.monotonic() of the last hand-out
        self._broken = False  # spawning failed: stop trying, callers spawn fresh (and see the error)
        self._thread = threading.Thread(target=self._refill_loop, name="ffmpeg-standby", daemon=True)
        self._thread.start()

    @property
    def pids(self) -> frozenset[int]:
        """The processes currently waiting (not the ones already handed out)."""
        with self._changed:
            return frozenset(process.pid for pool in self._ready.values() for process in pool)

    @property
    def closed(self) -> bool:
        return self._closed

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Block until ``size`` processes of each output are waiting; False on timeout, close or
        spawn failure."""
        with self._changed:
            return self._changed.wait_for(
                lambda: self._closed or self._broken or self._short() is None, timeout
            ) and not (self._closed or self._broken)

    def take(
        self, stream: Stream, *, output: Sequence[str] = PCM_OUTPUT, rw_timeout: float = DEFAULT_RW_TIMEOUT
    ) -> subprocess.Popen[bytes] | None:
        """A process now writing ``stream`` with ``output`` to its stdout, or None (spawn a fresh one).

        Never waits for a spawn: the replacement is started in the background.
        """
        script = concat_script(stream, rw_timeout=rw_timeout)
        if script is None:
            log.debug("stream not expressible as an ffconcat script; no standby")
            return None
        kind = tuple(output)
        if kind == PCM_OUTPUT:  # processes opened ahead write PCM
            ahead = self._take_ahead(generic_request(stream), rw_timeout)
            if ahead is not None:
                return ahead
        process = self._waiting_process(kind)
        if process is None or not self._hand_script(process, script):
            return None
        log.debug("standby ffmpeg pid %s handed out", process.pid)
        return process

    def open_ahead(self, stream: Stream, *, rw_timeout: float = DEFAULT_RW_TIMEOUT) -> bool:
        """Give a waiting process ``stream``'s script now, for a ``take`` of the same request to come;
        False when none is waiting or the stream cannot be written as a script. Never blocks."""
        script = concat_script(stream, rw_timeout=rw_timeout)
        if script is None:
            return False
        with self._changed:
            if script in self._ahead:
                return True
        process = self._waiting_process(PCM_OUTPUT)
        if process is None or not self._hand_script(process, script):
            return False
        with self._changed:
            if self._closed:
                _kill(process)
                return False
            self._ahead[script] = (process, time.monotonic())
        log.debug("standby ffmpeg pid %s opened ahead", process.pid)
        return True

    def discard_ahead(self, stream: Stream, *, rw_timeout: float = DEFAULT_RW_TIMEOUT) -> None:
        """Kill the process opened ahead for ``stream`` if no ``take`` claimed it (and any other left
        longer than AHEAD_LIFETIME); it waits for them to die, so not on the event loop."""
        script = concat_script(stream, rw_timeout=rw_timeout)
        now = time.monotonic()
        with self._changed:
            gone = [key for key, (_, at) in self._ahead.items() if key == script or now - at > AHEAD_LIFETIME]
            dropped = [self._ahead.pop(key)[0] for key in gone]
        for process in dropped:
            log.debug("standby ffmpeg pid %s opened ahead and not used", process.pid)
            _kill(process)

    def _take_ahead(self, request: Stream, rw_timeout: float) -> subprocess.Popen[bytes] | None:
        script = concat_script(request, rw_timeout=rw_timeout)
        with self._changed:
            entry = self._ahead.pop(script, None) if script is not None else None
        if entry is None:
            return None
        process = entry[0]
        if process.poll() not in (None, 0):  # its early open failed; a fresh start says why
            log.debug("standby ffmpeg pid %s opened ahead had failed (code %s)", process.pid, process.returncode)
            _reap(process)
            return None
        log.debug("standby ffmpeg pid %s handed out, opened ahead", process.pid)
        return process

    def _waiting_process(self, output: tuple[str, ...]) -> subprocess.Popen[bytes] | None:
        """A live process waiting with ``output`` (the refill thread is woken to replace it), or None."""
        dead: list[subprocess.Popen[bytes]] = []
        process: subprocess.Popen[bytes] | None = None
        with self._changed:
            pool = self._ready.get(output)
            if self._closed or pool is None:
                return None
            while pool:
                candidate = pool.pop(0)
                if candidate.poll() is None:
                    process = candidate
                    self._handed_out_at = time.monotonic()
                    break
                dead.append(candidate)
            self._changed.notify_all()  # wake the refill thread
        for gone in dead:
            log.warning("standby ffmpeg pid %s had exited (code %s); replaced", gone.pid, gone.returncode)
            _reap(gone)
        return process

    @staticmethod
    def _hand_script(process: subprocess.Popen[bytes], script: str) -> bool:
        """Write the script and close stdin: from then on the process is an ordinary PCM pipe."""
        # Handed out like a fresh process, whose stdin is DEVNULL: Popen.communicate() (discord's
        # cleanup) fails on a closed stdin pipe before it reaps.
        stdin, process.stdin = process.stdin, None
        try:
            assert stdin is not None
            with stdin:
                stdin.write(script.encode("utf-8"))
        except OSError as exc:  # it died between poll() and the write
            log.warning("standby ffmpeg pid %s could not take its script: %r", process.pid, exc)
            _kill(process)
            return False
        return True

    def close(self) -> None:
        """Kill and reap every waiting process and stop refilling; safe to call twice, from any thread."""
        with self._changed:
            self._closed = True
            ready = [process for pool in self._ready.values() for process in pool]
            for pool in self._ready.values():
                pool.clear()
            ready += [process for process, _ in self._ahead.values()]
            self._ahead.clear()
            self._changed.notify_all()
        if self._thread is not threading.current_thread():
            self._thread.join()
        for process in ready:
            _kill(process)
        log.debug("ffmpeg standby closed (%d processes killed)", len(ready))

    def _short(self) -> tuple[str, ...] | None:
        """Under ``_changed``: the first output with fewer than ``size`` processes waiting."""
        return next((output for output, pool in self._ready.items() if len(pool) < self.size), None)

    def _refill_loop(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._closed or self._short() is not None)
                if self._closed:
                    return
                settle = self._handed_out_at + REFILL_DELAY - time.monotonic()
                if settle > 0:
                    self._changed.wait_for(lambda: self._closed, settle)
                    continue
                output = self._short()
            assert output is not None
            try:
                process = subprocess.Popen(
                    standby_args(self.executable, output),
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=self.stderr,
                    env=self.env,
                    creationflags=_CREATIONFLAGS,
                )
            except (OSError, ValueError, subprocess.SubprocessError) as exc:
                log.warning("could not start a standby ffmpeg (%r); tracks start a fresh one", exc)
                with self._changed:
                    self._broken = True
                    self._changed.notify_all()
                return
            yield_to_voice(process.pid)
            with self._changed:
                if not self._closed:
                    self._ready[output].append(process)
                    self._changed.notify_all()
                    log.debug("standby ffmpeg pid %s waiting", process.pid)
                    continue
            _kill(process)  # close() ran while it was starting
            return


def _reap(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(OSError):
        if process.stdin is not None:
            process.stdin.close()
    with contextlib.suppress(OSError):
        if process.stdout is not None:
            process.stdout.close()
    process.wait()


def _kill(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, OSError):
        process.kill()
    _reap(process)
