"""Process-wide logging, set up once by main.py: console, logs/brent.log, logs/ffmpeg.log.

Every handler carries a :class:`TokenRedactionFilter`, so a token that reaches a log record by any
route (a message, an argument, an exception traceback, discord.py's own loggers) is masked before it
is written anywhere. ffmpeg's stderr is noisy and can contain stream URLs, so it goes to its own file
and never to the terminal: through a pipe to :class:`~bot.ffmpeg_log.FfmpegLog`, which masks it with
the same filter, rotates the file by size while ffmpeg runs and caps how fast it grows.
"""

from __future__ import annotations

import logging
import logging.handlers
import re
import sys
import urllib.parse
from collections.abc import Iterable
from pathlib import Path

from bot.ffmpeg_log import FfmpegLog
from bot.settings import Settings
from bot.token_mask import TokenMasker

log = logging.getLogger(__name__)

LOG_FILE = "brent.log"
FFMPEG_LOG_FILE = "ffmpeg.log"
MAX_BYTES = 5 * 1024 * 1024
BACKUPS = 5
MASK = "[REDACTED]"
FORMAT = "%(asctime)s %(levelname)-8s %(name)s: %(message)s"

# An Authorization value and the password part of a URL; tokens themselves are TokenMasker's job.
# Both start with a literal, which the regex engine skips ahead to instead of trying every position.
_BOT_HEADER = re.compile(r"(B(?<=\bB)(?:ot|earer))\s+[A-Za-z0-9_.\-]{20,}")
_URL_PASSWORD = re.compile(r"(://(?<=[a-z0-9+.-]://)[^/\s:@]+:)[^@\s/]+@", re.IGNORECASE)

_BRENT_HANDLER = "_brent_handler"


class TokenRedactionFilter(logging.Filter):
    """Masks token-shaped strings (and the configured secrets) in the message and the traceback text.

    Percent-encoded and base64 forms are masked too (see :mod:`bot.token_mask`). It rewrites the
    record in place: the message is rendered, masked and frozen (``args`` cleared), and the exception
    is pre-formatted into ``exc_text``, which formatters use as-is.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._masker = TokenMasker(secrets, mask=MASK)
        self._formatter = logging.Formatter()

    def redact(self, text: str) -> str:
        text = self._masker.mask(text)
        text = _BOT_HEADER.sub(lambda m: f"{m.group(1)} {MASK}", text)
        return _URL_PASSWORD.sub(lambda m: f"{m.group(1)}{MASK}@", text)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken %-format must still be logged, and still masked
            message = f"{record.msg!r} % {record.args!r}"
        record.msg = self.redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def configure_logging(settings: Settings, log_dir: Path = Path("logs")) -> None:
    """Install the console and rotating-file handlers on the root logger; safe to call again.

    A second call replaces the handlers installed by the first instead of adding more.
    """
    log_dir.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, _BRENT_HANDLER, False)]:
        root.removeHandler(handler)
        handler.close()

    redaction = TokenRedactionFilter(_secrets(settings))
    formatter = logging.Formatter(FORMAT)

    console = logging.StreamHandler(sys.stderr)
    file = logging.handlers.RotatingFileHandler(
        log_dir / LOG_FILE, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8"
    )
    for handler in (console, file):
        handler.setFormatter(formatter)
        handler.addFilter(redaction)
        setattr(handler, _BRENT_HANDLER, True)
        root.addHandler(handler)

    root.setLevel(settings.log_level)
    # Request logging at DEBUG shows URLs and payloads (webhook URLs carry tokens).
    logging.getLogger("discord.http").setLevel(logging.WARNING)


def open_ffmpeg_log(settings: Settings, log_dir: Path = Path("logs")) -> FfmpegLog:
    """Start the sink for every ffmpeg's stderr (pass its ``stderr``); the caller closes it on exit.

    It masks what ffmpeg prints the way the log handlers mask records: stream URLs can carry tokens.
    """
    return FfmpegLog(log_dir / FFMPEG_LOG_FILE, redact=TokenRedactionFilter(_secrets(settings)).redact)


def _secrets(settings: Settings) -> list[str]:
    found = [settings.token.reveal()] if settings.token is not None else []
    if settings.sources.ytdlp_proxy is not None:  # its password, if it has one
        found += [p for p in [urllib.parse.urlsplit(settings.sources.ytdlp_proxy).password] if p]
    return found
