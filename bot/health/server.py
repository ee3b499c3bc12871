"""HealthServer: the running bot's end of ``--health``, a Unix socket in DATA_DIR.

Each connection gets one line (a HealthReport) and is closed; the client sends nothing. The socket
is mode 600, so only the bot's own user (and root) may ask. A socket left by a crashed run is
replaced; one that still answers belongs to another BRENT on the same data folder, which keeps it.
Opening never fails the bot: without the socket only ``--health`` is unavailable.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path

from bot.health.report import HealthReport

log = logging.getLogger(__name__)

ANSWER_TIMEOUT = 8.0  # below the client's timeout, so a slow check still gets its answer out
STALE_CHECK_TIMEOUT = 2.0


class HealthServer:
    def __init__(self, server: asyncio.AbstractServer, path: Path, inode: int) -> None:
        self._server = server
        self._path = path
        self._inode = inode

    @classmethod
    async def open(cls, path: Path, report: Callable[[], Awaitable[HealthReport]]) -> HealthServer | None:
        """Serve ``report()`` on ``path``; None (logged) when the socket cannot be made."""

        async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                result = await asyncio.wait_for(report(), ANSWER_TIMEOUT)
            except TimeoutError:
                result = HealthReport(False, f"the health check took longer than {ANSWER_TIMEOUT:.0f} s")
            except Exception:
                log.exception("the health check failed")
                result = HealthReport(False, "the health check itself failed (logged in logs/brent.log)")
            try:
                writer.write(result.encode())
                await writer.drain()
            except OSError:
                pass  # the asker gave up
            finally:
                writer.close()

        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if await _answers(path):
                log.warning("another BRENT answers on %s; this one serves no health socket", path)
                return None
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            server = await asyncio.start_unix_server(answer, path=str(path))
            os.chmod(path, 0o600)
            inode = path.stat().st_ino
        except OSError as exc:  # e.g. a path longer than a Unix socket allows (~100 bytes)
            log.warning(
                "cannot serve the health socket at %s (%s); `main.py --health` is unavailable", path, exc
            )
            return None
        log.info("health socket at %s", path)
        return cls(server, path, inode)

    async def close(self) -> None:
        self._server.close()
        await self._server.wait_closed()
        with contextlib.suppress(OSError):
            if self._path.stat().st_ino == self._inode:  # not a newer instance's socket
                self._path.unlink()


async def _answers(path: Path) -> bool:
    if not path.exists():
        return False
    try:
        _, writer = await asyncio.wait_for(asyncio.open_unix_connection(str(path)), STALE_CHECK_TIMEOUT)
    except (OSError, TimeoutError):
        return False
    writer.close()
    return True
