"""The ffmpeg log sink: rotation while ffmpeg runs, the rate limit, file errors, close, token masking.

Waits poll an observable condition (bytes the reader has taken from the pipe, files on disk, the
reader thread's end) with a deadline; nothing sleeps in place of synchronisation.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import pytest

from bot.ffmpeg_log import CLOSE_TIMEOUT, FfmpegLog
from bot.logging_config import MASK, TokenRedactionFilter, open_ffmpeg_log
from bot.settings import Secret, Settings

TOKEN = "MTA1NjQ4OTk5OTk5OTk5OTk5OQ.GabcDE.abcdefghijklmnopqrstuvwxyz0123456789AB"
# ffmpeg paced to real time, printing a few lines per 10 ms audio frame (about 100 kB/s) until killed.
CHATTY_FFMPEG = [
    "ffmpeg", "-nostdin", "-hide_banner", "-re", "-f", "lavfi", "-i", "sine=r=48000:samples_per_frame=480",
    "-af", "ashowinfo", "-debug_ts", "-f", "null", "-",
]
PIPE_BUFFER = 64 * 1024  # the largest default pipe buffer (Linux; macOS grows to it)


def wait_until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.005)


def python_writing_stderr(nbytes: int, stderr: IO[bytes]) -> subprocess.Popen[bytes]:
    """A child that writes ``nbytes`` to its stderr in 4 KiB writes and exits."""
    code = (
        "import os\n"
        f"left = {nbytes}\n"
        "while left:\n"
        "    left -= os.write(2, b'y' * min(4096, left))\n"
    )
    return subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.DEVNULL, stderr=stderr)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def chatty_ffmpeg() -> Iterator[Callable[[FfmpegLog], subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []

    def start(sink: FfmpegLog) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            CHATTY_FFMPEG, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=sink.stderr
        )
        started.append(process)
        return process

    yield start
    for process in started:
        process.kill()
        process.wait()


def log_files(directory: Path) -> dict[str, int]:
    return {p.name: p.stat().st_size for p in directory.iterdir() if p.name.startswith("ffmpeg.log")}


def test_real_ffmpeg_output_is_rotated_while_ffmpeg_runs(
    tmp_path: Path, chatty_ffmpeg: Callable[[FfmpegLog], subprocess.Popen[bytes]]
) -> None:
    max_bytes, backups = 16 * 1024, 2
    sink = FfmpegLog(tmp_path / "ffmpeg.log", max_bytes=max_bytes, backups=backups, bytes_per_second=None)
    ffmpeg = chatty_ffmpeg(sink)
    # Enough output for more rotations than there are backups, so the oldest must have been deleted.
    enough = max_bytes * (backups + 3)
    # .2 exists only after two rotations (and stays: renames onto it replace it in one step).
    wait_until(lambda: sink.received >= enough and (tmp_path / "ffmpeg.log.2").exists())
    assert ffmpeg.poll() is None, "ffmpeg should still be running: rotation happened under it"

    ffmpeg.terminate()
    ffmpeg.wait(timeout=10)
    sink.close()
    wait_until(lambda: sink.finished)
    files = log_files(tmp_path)
    assert set(files) == {"ffmpeg.log", "ffmpeg.log.1", "ffmpeg.log.2"}
    assert all(size <= max_bytes for size in files.values()), files
    assert files["ffmpeg.log.1"] > max_bytes // 2  # full files, not a rotation per read
    backup = (tmp_path / "ffmpeg.log.1").read_bytes()
    assert b"muxer <- type:audio" in backup
    assert backup.endswith(b"\n")  # rotation happens at line boundaries


def test_rate_limit_drops_the_excess_and_says_so_when_writing_resumes(tmp_path: Path) -> None:
    clock = FakeClock()
    sink = FfmpegLog(tmp_path / "ffmpeg.log", bytes_per_second=1000, clock=clock)
    burst = b"".join(b"[aac @ 0x1] spam line %04d\n" % i for i in range(800))  # 21.6 kB at once
    sink.stderr.write(burst)
    wait_until(lambda: sink.received == len(burst))

    kept = burst.rfind(b"\n", 0, 1000) + 1  # one second's budget, cut at a line end
    assert (tmp_path / "ffmpeg.log").read_bytes() == burst[:kept]

    clock.now += 1.0
    sink.stderr.write(b"after the pause\n")
    wait_until(lambda: b"after the pause" in (tmp_path / "ffmpeg.log").read_bytes())
    sink.close()
    assert (tmp_path / "ffmpeg.log").read_bytes() == (
        burst[:kept] + b"[%d bytes of ffmpeg output dropped]\n" % (len(burst) - kept) + b"after the pause\n"
    )


def test_output_dropped_at_the_end_is_reported_when_the_pipe_closes(tmp_path: Path) -> None:
    sink = FfmpegLog(tmp_path / "ffmpeg.log", bytes_per_second=10, clock=FakeClock())
    sink.stderr.write(b"short\n" + b"z" * 500 + b"\n")
    sink.close()
    assert sink.finished
    assert (tmp_path / "ffmpeg.log").read_bytes() == b"short\n[501 bytes of ffmpeg output dropped]\n"


def test_unusable_log_directory_is_reported_once_and_the_pipe_is_still_drained(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "logs").write_text("a file where the log directory should be")
    with caplog.at_level(logging.ERROR, logger="bot.ffmpeg_log"):
        sink = FfmpegLog(tmp_path / "logs" / "ffmpeg.log")
        writer = python_writing_stderr(4 * PIPE_BUFFER, sink.stderr)
        assert writer.wait(timeout=30) == 0  # it would block forever on a pipe nobody reads
        sink.close()
        assert sink.finished
    assert sink.received == 4 * PIPE_BUFFER
    errors = [r for r in caplog.records if r.name == "bot.ffmpeg_log"]
    assert len(errors) == 1
    assert "discarded" in errors[0].getMessage()


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full to fill a disk")
def test_full_disk_is_reported_once_and_the_pipe_is_still_drained(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "ffmpeg.log").symlink_to("/dev/full")  # every write fails with ENOSPC
    with caplog.at_level(logging.ERROR, logger="bot.ffmpeg_log"):
        sink = FfmpegLog(tmp_path / "ffmpeg.log", bytes_per_second=None)
        writer = python_writing_stderr(4 * PIPE_BUFFER, sink.stderr)
        assert writer.wait(timeout=30) == 0
        sink.close()
        assert sink.finished
    assert sink.received == 4 * PIPE_BUFFER
    errors = [r for r in caplog.records if r.name == "bot.ffmpeg_log"]
    assert len(errors) == 1
    assert "No space left" in errors[0].getMessage()


def test_close_returns_promptly_and_the_reader_ends_with_the_last_ffmpeg(
    tmp_path: Path, chatty_ffmpeg: Callable[[FfmpegLog], subprocess.Popen[bytes]]
) -> None:
    idle = FfmpegLog(tmp_path / "idle" / "ffmpeg.log")
    started = time.monotonic()
    idle.close()
    assert idle.finished  # nobody else held the write end: end-of-file at once
    assert time.monotonic() - started < CLOSE_TIMEOUT

    sink = FfmpegLog(tmp_path / "busy" / "ffmpeg.log", bytes_per_second=None)
    ffmpeg = chatty_ffmpeg(sink)
    wait_until(lambda: sink.received > 0)
    started = time.monotonic()
    sink.close(timeout=0.2)
    assert time.monotonic() - started < 2.0
    assert not sink.finished  # the running ffmpeg still holds its copy of the write end
    ffmpeg.terminate()
    ffmpeg.wait(timeout=10)
    wait_until(lambda: sink.finished)
    assert b"muxer <- type:audio" in (tmp_path / "busy" / "ffmpeg.log").read_bytes()


def test_tokens_in_urls_printed_by_ffmpeg_are_masked(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:9/track.mp3?token={TOKEN}&id=7"  # port 9: nothing listens, ffmpeg says so
    with open_ffmpeg_log(Settings(token=Secret(TOKEN)), tmp_path) as sink:
        subprocess.run(
            ["ffmpeg", "-nostdin", "-hide_banner", "-i", url, "-f", "null", "-"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=sink.stderr, timeout=30,
        )
    assert sink.finished
    written = (tmp_path / "ffmpeg.log").read_text(encoding="latin-1")
    assert TOKEN not in written
    assert f"http://127.0.0.1:9/track.mp3?token={MASK}&id=7" in written


def test_a_token_split_across_two_reads_is_still_masked(tmp_path: Path) -> None:
    sink = FfmpegLog(tmp_path / "ffmpeg.log", redact=TokenRedactionFilter().redact)
    first = f"[http @ 0x1] Opening 'https://cdn.example/a?t={TOKEN[:30]}".encode()
    sink.stderr.write(first)
    wait_until(lambda: sink.received == len(first))  # the reader has seen only half of the token
    sink.stderr.write(f"{TOKEN[30:]}' for reading\n".encode() + "naïve\n".encode())
    sink.close()
    assert sink.finished
    assert (tmp_path / "ffmpeg.log").read_bytes() == (
        f"[http @ 0x1] Opening 'https://cdn.example/a?t={MASK}' for reading\nnaïve\n".encode()
    )


def test_an_oversized_log_from_an_earlier_run_is_rotated_on_open_and_a_small_one_appended(
    tmp_path: Path,
) -> None:
    (tmp_path / "ffmpeg.log").write_bytes(b"x" * 100)
    (tmp_path / "ffmpeg.log.1").write_bytes(b"older")
    FfmpegLog(tmp_path / "ffmpeg.log", max_bytes=100).close()
    assert (tmp_path / "ffmpeg.log").read_bytes() == b""
    assert (tmp_path / "ffmpeg.log.1").read_bytes() == b"x" * 100
    assert (tmp_path / "ffmpeg.log.2").read_bytes() == b"older"

    for run in (b"second run\n", b"third run\n"):
        with FfmpegLog(tmp_path / "ffmpeg.log", max_bytes=100) as sink:
            sink.stderr.write(run)
        assert sink.finished
    assert (tmp_path / "ffmpeg.log").read_bytes() == b"second run\nthird run\n"
