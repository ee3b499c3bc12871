from __future__ import annotations

import io
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.ffmpeg_log import MAX_BYTES as FFMPEG_MAX_BYTES
from bot.logging_config import MASK, TokenRedactionFilter, configure_logging, open_ffmpeg_log
from bot.settings import Secret, Settings

FAKE_TOKEN = "MTA1NjQ4OTk5OTk5OTk5OTk5OQ.GabcDE.abcdefghijklmnopqrstuvwxyz0123456789AB"
OTHER_TOKEN = "OTk4NzY1NDMyMTA5ODc2NTQzMg.Gxyzzy.ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210"


@pytest.fixture
def root_logging() -> Iterator[None]:
    """Put the root logger back as it was: these tests install process-wide handlers."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    http_level = logging.getLogger("discord.http").level
    yield
    for handler in root.handlers:
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)
    logging.getLogger("discord.http").setLevel(http_level)


def ours(root: logging.Logger) -> list[logging.Handler]:
    return [h for h in root.handlers if getattr(h, "_brent_handler", False)]


def flush(root: logging.Logger) -> None:
    for handler in root.handlers:
        handler.flush()


def test_tokens_are_masked_in_file_and_console(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, root_logging: None
) -> None:
    console = io.StringIO()
    monkeypatch.setattr(sys, "stderr", console)
    configure_logging(Settings(token=Secret(FAKE_TOKEN), log_level="DEBUG"), log_dir=tmp_path)
    log = logging.getLogger("brent.test")

    log.info("configured token is %s", FAKE_TOKEN)
    log.warning("header was Authorization: Bot %s", "abc.def-" * 5)
    log.info("someone else's token %s leaked", OTHER_TOKEN)
    log.info("db at postgresql://brent:hunter2@db.example/brent")
    try:
        raise RuntimeError(f"login failed for {FAKE_TOKEN}")
    except RuntimeError:
        log.exception("while logging in")
    logging.getLogger("discord.client").error("discord.py says %r", {"token": FAKE_TOKEN})
    flush(logging.getLogger())

    file_text = (tmp_path / "brent.log").read_text(encoding="utf-8")
    for text in (file_text, console.getvalue()):
        assert FAKE_TOKEN not in text
        assert OTHER_TOKEN not in text
        assert "abc.def-abc.def-" not in text
        assert "hunter2" not in text
        assert "Traceback (most recent call last)" in text
        assert "RuntimeError: login failed for " + MASK in text
        assert "configured token is " + MASK in text
        assert "Authorization: Bot " + MASK in text
        assert "postgresql://brent:" + MASK + "@db.example/brent" in text


def test_configure_twice_does_not_duplicate_handlers(tmp_path: Path, root_logging: None) -> None:
    root = logging.getLogger()
    configure_logging(Settings(), log_dir=tmp_path)
    first = ours(root)
    configure_logging(Settings(log_level="WARNING"), log_dir=tmp_path)
    second = ours(root)
    assert len(first) == len(second) == 2
    assert not set(first) & set(second)
    assert all(any(isinstance(f, TokenRedactionFilter) for f in h.filters) for h in second)
    assert root.level == logging.WARNING
    assert logging.getLogger("discord.http").getEffectiveLevel() == logging.WARNING

    logging.getLogger("brent.test").warning("once")
    flush(root)
    assert (tmp_path / "brent.log").read_text(encoding="utf-8").count("once") == 1


def test_broken_format_arguments_are_still_logged_and_masked() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%d items " + FAKE_TOKEN, ("many",), None)
    TokenRedactionFilter().filter(record)
    assert FAKE_TOKEN not in record.getMessage()
    assert "many" in record.getMessage()


def test_ffmpeg_stderr_goes_to_its_own_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, root_logging: None
) -> None:
    console = io.StringIO()
    monkeypatch.setattr(sys, "stderr", console)
    configure_logging(Settings(), log_dir=tmp_path)
    with open_ffmpeg_log(Settings(), tmp_path) as sink:
        subprocess.run(
            ["ffmpeg", "-nostdin", "-hide_banner", "-f", "lavfi", "-i", "anullsrc", "-t", "0.05",
             "-f", "null", "-", "-loglevel", "info"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=sink.stderr, check=True, timeout=30,
        )
    assert sink.finished  # ffmpeg exited and the sink closed: everything it wrote is in the file
    written = (tmp_path / "ffmpeg.log").read_text(encoding="utf-8", errors="replace")
    assert "anullsrc" in written
    assert "anullsrc" not in console.getvalue()
    assert not (tmp_path / "brent.log").read_text(encoding="utf-8")


def test_oversized_ffmpeg_log_is_rotated_at_startup(tmp_path: Path, root_logging: None) -> None:
    (tmp_path / "ffmpeg.log").write_bytes(b"x" * FFMPEG_MAX_BYTES)
    (tmp_path / "ffmpeg.log.1").write_bytes(b"older")
    configure_logging(Settings(), log_dir=tmp_path)
    open_ffmpeg_log(Settings(), tmp_path).close()
    assert (tmp_path / "ffmpeg.log").read_bytes() == b""
    assert (tmp_path / "ffmpeg.log.1").stat().st_size == FFMPEG_MAX_BYTES
    assert (tmp_path / "ffmpeg.log.2").read_bytes() == b"older"
