"""What the bot does during the lab, kept as evidence: its log lines, how each track ended, where an attack began."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import threading

from audio.events import PlayerEvent, TrackEnded


class LogCapture(logging.Handler):
    """The egress proxy's refusals, the extractor's failures (a policy refusal inside a lookup or a
    measurement) and TimedAudio's spawn lines (standby or fresh), in order."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self._lock_records = threading.Lock()
        self.lines: list[tuple[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        with self._lock_records:
            self.lines.append((record.name, record.getMessage()))

    def snapshot(self) -> list[tuple[str, str]]:
        with self._lock_records:
            return list(self.lines)


@dataclasses.dataclass(frozen=True)
class Ended:
    """How a track left the player, and the failure the member was told about (if any)."""

    url: str
    title: str
    reason: str
    user_message: str | None
    detail: str | None


class EndWatcher:
    """A subscriber after the announcer: when it hears a track end, the "Skipped" reply (if any)
    has already been posted, because subscribers are called one after the other."""

    def __init__(self) -> None:
        self.ended: list[Ended] = []
        self._changed = asyncio.Condition()

    async def __call__(self, event: PlayerEvent) -> None:
        if not isinstance(event, TrackEnded):
            return
        track, error = event.track, event.error
        async with self._changed:
            self.ended.append(
                Ended(
                    track.page_url,
                    track.title,
                    event.reason.value,
                    getattr(error, "user_message", None),
                    None if error is None else str(error),
                )
            )
            self._changed.notify_all()

    def mark(self) -> int:
        return len(self.ended)

    async def wait_for_ends(self, mark: int, count: int, timeout: float) -> list[Ended]:
        """The first ``count`` track ends heard since ``mark`` (by order: a redirect may change a
        track's page URL, so the URL typed cannot always identify it)."""
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: len(self.ended) >= mark + count)
            return self.ended[mark : mark + count]


@dataclasses.dataclass
class Marks:
    """Lengths of every evidence log when an attack began: what came after is that attack's."""

    hits: int
    served: int
    dns: int
    logs: int
