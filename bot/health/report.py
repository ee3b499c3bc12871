"""HealthReport, its one-line wire form, and where the socket lives.

The wire form is one line, ``ok <text>`` or ``fail <text>``; the text is what ``--health`` prints.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

SOCKET_NAME = "brent.sock"
MAX_LINE = 1024


@dataclass(frozen=True, slots=True)
class HealthReport:
    healthy: bool
    line: str

    def encode(self) -> bytes:
        text = " ".join(self.line.split())[:MAX_LINE]
        return f"{'ok' if self.healthy else 'fail'} {text}\n".encode()

    @classmethod
    def decode(cls, data: bytes) -> HealthReport:
        """The report a bot sent; anything else is itself a failure to report."""
        status, _, text = data.decode("utf-8", "replace").strip().partition(" ")
        if status in ("ok", "fail") and text:
            return cls(status == "ok", text)
        return cls(False, "the bot's health answer was unreadable")


def socket_path(data_dir: Path) -> Path:
    """The socket the bot serves and ``--health`` asks: in DATA_DIR, which only the bot's user writes."""
    return data_dir / SOCKET_NAME
