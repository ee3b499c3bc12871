"""ffmpeg's stderr goes through a pipe to a thread that writes logs/ffmpeg.log, rotating it by size.

ffmpeg writes straight to whatever file descriptor it is handed, so a plain file could only be rotated
while no ffmpeg runs, and a stream crafted to make ffmpeg warn continuously (about 0.6 GB a day) fills
the disk. With a pipe in between, one reader sees every byte first: it rotates the file
(``ffmpeg.log.1`` … ``.N`` like :class:`logging.handlers.RotatingFileHandler`), caps the bytes written
per second so one spamming stream cannot make the disk the bottleneck, and masks tokens in the URLs
ffmpeg prints.

The reader only reads and writes: when the file cannot be written (disk full, permissions) it logs that
once and keeps draining the pipe, discarding the output, so ffmpeg never blocks on a full pipe because
of the log.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

log = logging.getLogger(__name__)

CHUNK = 64 * 1024
MAX_BYTES = 5 * 1024 * 1024
BACKUPS = 5
# Far above what ffmpeg prints at -loglevel warning, far below what makes a disk busy.
BYTES_PER_SECOND = 64 * 1024
CLOSE_TIMEOUT = 1.0
# A partial last line is held back until its end arrives, so a token split across two reads is still
# masked; past this length it is written as it is, so one endless line cannot hold memory.
_CARRY_MAX = 8 * 1024


class FfmpegLog:
    """The write end of a pipe for ffmpeg's stderr, and the daemon thread that drains the read end.

    Every ffmpeg started with :attr:`stderr` holds its own copy of the write end, so the reader sees
    end-of-file only after :meth:`close` *and* the exit of the last such ffmpeg. :meth:`close` therefore
    waits only briefly; a reader still waiting for a straggler is a daemon thread and does not keep the
    process alive.

    An oversized log from an earlier run is rotated when this opens it, so a start never appends to a
    full file.
    """

    def __init__(
        self,
        path: Path,
        *,
        max_bytes: int = MAX_BYTES,
        backups: int = BACKUPS,
        bytes_per_second: int | None = BYTES_PER_SECOND,
        redact: Callable[[str], str] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_bytes < 1 or backups < 0 or (bytes_per_second is not None and bytes_per_second < 1):
            raise ValueError("max_bytes and bytes_per_second must be positive and backups not negative")
        self.path = path
        self._max_bytes = max_bytes
        self._backups = backups
        self._rate = bytes_per_second
        self._redact = redact
        self._clock = clock
        self._budget = float(bytes_per_second or 0)
        self._refilled = clock()
        self._dropped = 0
        self._received = 0
        self._carry = b""
        self._at_line_start = True
        self._file: BinaryIO | None = None
        self._size = 0
        self._open()

        try:
            read_fd, write_fd = os.pipe()  # both non-inheritable; subprocess dup2s the write end onto fd 2
        except OSError:
            self._close_file()
            raise
        self._read_fd = read_fd
        self._stderr: BinaryIO = os.fdopen(write_fd, "wb", buffering=0)
        self._thread = threading.Thread(target=self._run, name="brent-ffmpeg-log", daemon=True)
        self._thread.start()

    @property
    def stderr(self) -> BinaryIO:
        """What to pass as ffmpeg's ``stderr``: a real file object, because subprocess needs its fd."""
        return self._stderr

    @property
    def received(self) -> int:
        """Bytes read from the pipe so far, written or not: how much ffmpeg has said."""
        return self._received

    @property
    def finished(self) -> bool:
        """True once the reader saw end-of-file and closed the log file."""
        return not self._thread.is_alive()

    def close(self, timeout: float = CLOSE_TIMEOUT) -> None:
        """Give up the bot's copy of the write end and wait up to ``timeout`` for the reader to finish.

        An ffmpeg that is still running keeps the pipe open; the reader then finishes when it exits.
        """
        self._stderr.close()
        self._thread.join(timeout)

    def __enter__(self) -> FfmpegLog:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # --- the reader thread -------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            while True:
                try:
                    chunk = os.read(self._read_fd, CHUNK)
                except OSError:
                    log.exception("reading ffmpeg's output failed; ffmpeg.log gets no more of it")
                    break
                if not chunk:
                    break
                self._received += len(chunk)
                if self._file is not None:
                    self._guarded(self._accept, chunk)
            self._guarded(self._finish)
        finally:
            os.close(self._read_fd)
            self._close_file()

    def _guarded(self, step: Callable[..., None], *args: bytes) -> None:
        try:
            step(*args)
        except Exception as exc:  # the reader must outlive any failure, or ffmpeg blocks on the pipe
            self._fail(exc)

    def _accept(self, chunk: bytes) -> None:
        keep = len(chunk)
        if self._rate is not None:
            now = self._clock()
            self._budget = min(float(self._rate), self._budget + (now - self._refilled) * self._rate)
            self._refilled = now
            if keep > self._budget:
                keep = int(self._budget)
                keep = chunk.rfind(b"\n", 0, keep) + 1 or keep  # whole lines where there is one
            self._budget -= keep
        if keep:
            if self._dropped:
                self._write_dropped()
            self._emit(chunk if keep == len(chunk) else chunk[:keep])
        self._dropped += len(chunk) - keep

    def _finish(self) -> None:
        if self._file is None:
            return
        self._emit(b"", whole=True)
        if self._dropped:
            self._write_dropped()

    def _write_dropped(self) -> None:
        self._emit(b"", whole=True)
        line = f"[{self._dropped} bytes of ffmpeg output dropped]\n".encode("ascii")
        self._write(line if self._at_line_start else b"\n" + line)
        self._dropped = 0

    def _emit(self, data: bytes, *, whole: bool = False) -> None:
        """Mask and write the complete lines; a partial last line waits for the rest of it (so a
        token split across reads is still masked, and a file is only ever cut at a line end)."""
        data = self._carry + data if self._carry else data
        cut = len(data)
        if not whole:
            cut = max(data.rfind(b"\n"), data.rfind(b"\r")) + 1
            if len(data) - cut > _CARRY_MAX:
                cut = len(data)
        self._carry = data[cut:]
        if not cut:
            return
        out = data[:cut]
        if self._redact is not None:
            # latin-1 maps bytes to characters one to one, so everything but a token survives intact.
            out = self._redact(out.decode("latin-1")).encode("latin-1", "replace")
        self._write(out)

    def _write(self, data: bytes) -> None:
        """Append ``data``, moving to a fresh file at a line boundary before the size limit."""
        while data and self._file is not None:
            room = self._max_bytes - self._size
            if len(data) <= room:
                piece, data = data, b""
            else:
                cut = data.rfind(b"\n", 0, room) + 1
                if not cut and self._size:  # the line starts the next file
                    self._rotate()
                    continue
                cut = cut or room  # a single line longer than a whole file is split
                piece, data = data[:cut], data[cut:]
            self._file.write(piece)
            self._size += len(piece)
            self._at_line_start = piece.endswith(b"\n")
            if data:
                self._rotate()
        if self._file is not None:
            self._file.flush()

    # --- the file ----------------------------------------------------------------------------------

    def _open(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("ab")
            self._size = os.fstat(self._file.fileno()).st_size
            self._at_line_start = True
            if self._size >= self._max_bytes:
                self._rotate()
        except OSError as exc:
            self._fail(exc)

    def _rotate(self) -> None:
        self._close_file()
        if self._backups:
            for index in range(self._backups - 1, 0, -1):
                older = self._backup(index)
                if older.exists():
                    older.replace(self._backup(index + 1))
            self.path.replace(self._backup(1))
        else:
            self.path.unlink(missing_ok=True)
        self._file = self.path.open("ab")
        self._size = 0

    def _backup(self, index: int) -> Path:
        return self.path.with_name(f"{self.path.name}.{index}")

    def _fail(self, exc: Exception) -> None:
        log.error(
            "cannot write %s (%s); ffmpeg's output is discarded until BRENT restarts", self.path, exc,
            exc_info=not isinstance(exc, OSError),
        )
        self._close_file()
        self._carry = b""

    def _close_file(self) -> None:
        file, self._file = self._file, None
        if file is not None:
            with contextlib.suppress(OSError):  # the flush of a full disk: reported by _fail
                file.close()
