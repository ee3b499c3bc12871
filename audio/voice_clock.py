"""Voice sending for every guild on a few shared 20 ms clocks instead of one thread per connection.

discord.py plays each voice connection on its own ``AudioPlayer`` thread. Each of them wakes 50
times a second and must win the GIL to read, encode, encrypt and send one packet; with dozens of
guilds the threads queue on the GIL and on each other's wake-ups, and the capacity benchmark showed
that queueing, not the work, is what first breaks the 20 ms rhythm. Here a ``VoiceClock`` thread
sends the due packet of every guild it serves in one pass; guilds join the shared grid after their
first packet, so a pass costs one wake-up however many guilds it serves. Each guild's side is a
:class:`~audio.clocked_player.ClockedPlayer`.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from typing import Protocol

from audio.clock_load import ClockLoad
from audio.clocked_player import FRAME, ClockedPlayer

log = logging.getLogger(__name__)

BATCH_SLACK = 0.0005  # packets due this close together go out in one pass
MAX_WAIT = 0.05  # longest single sleep of a clock


class VoiceClock:
    """One thread that sends every due packet of the players it serves.

    Players start on their own time (their first packet goes out at once) and then move to the
    clock's 20 ms grid, so a pass normally serves all of them together. The clock times its passes
    and sets its players' encoders to the complexity its load calls for (:mod:`audio.clock_load`).
    """

    def __init__(self, name: str, phase: float = 0.0) -> None:
        self._players: list[ClockedPlayer] = []
        self._cond = threading.Condition()
        self._epoch = time.perf_counter() + phase
        self._closed = False
        self.load = ClockLoad()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    @property
    def epoch(self) -> float:
        """perf_counter() time of the grid's tick 0."""
        return self._epoch

    def close(self) -> None:
        """Stop the thread once it is idle or between passes (tests; the bot's clocks live as long as it)."""
        with self._cond:
            self._closed = True
            self._cond.notify()
        self._thread.join()

    def __len__(self) -> int:
        return len(self._players)

    def lag(self, now: float) -> float:
        """Seconds its most overdue packet is late (0 if none is), inf once the thread has ended;
        lock-free for the health check, as a ``due`` read mid-pass is one pass old at most."""
        if not self._thread.is_alive():
            return math.inf
        due = min((p.due for p in tuple(self._players)), default=math.inf)
        return max(0.0, now - due)

    def add(self, player: ClockedPlayer) -> None:
        with self._cond:
            player.encode_at(self.load.complexity)
            self._players.append(player)
            self._cond.notify()

    def wake(self) -> None:
        with self._cond:
            self._cond.notify()

    def grid_after(self, now: float) -> float:
        """The grid tick at least half a frame after ``now``, so no two packets come too close."""
        ticks = math.ceil((now + FRAME / 2 - self._epoch) / FRAME)
        return self._epoch + ticks * FRAME

    def _run(self) -> None:
        while True:
            with self._cond:
                while True:
                    if self._closed:
                        return
                    now = time.perf_counter()
                    next_due = min((p.due for p in self._players), default=math.inf)
                    if next_due <= now + BATCH_SLACK:
                        break
                    # Capped: on macOS a timed wait follows the wall clock, which can jump.
                    self._cond.wait(None if next_due == math.inf else min(next_due - now, MAX_WAIT))
                batch = [p for p in self._players if p.due <= now + BATCH_SLACK]
            started = time.perf_counter()
            over = [p for p in batch if not self._serve(p, now)]
            retuned = self.load.passed(started, time.perf_counter())
            if over or retuned:
                with self._cond:
                    self._players = [p for p in self._players if p not in over]
                    if retuned:
                        self._encode_at(self.load.complexity)

    def _encode_at(self, complexity: int) -> None:
        """Under ``_cond``, on the clock's thread (the only one that encodes)."""
        log.info(
            "%s: %.0f%% of its time in passes; encoding %d guilds at Opus complexity %d",
            self._thread.name, 100 * self.load.busy, len(self._players), complexity,
        )
        for player in self._players:
            player.encode_at(complexity)

    @staticmethod
    def _serve(player: ClockedPlayer, now: float) -> bool:
        try:
            return player.send_due(now)
        except Exception:  # send_due handles its own errors; this keeps every other guild playing
            log.exception("voice clock: dropping a player after an unexpected error")
            return False


class VoiceClocks:
    """Two clocks (one on a single core), their grids offset by half a frame so their passes
    interleave.

    Profiled at 50 streams, one clock spent about two thirds of its pass inside libopus, which
    runs without the GIL: a second clock lets those encodes use the second core, and on 2 cores it
    held 70 streams in the capacity ramp where one clock topped out at one core (50-80 streams,
    depending on how busy the machine was).
    """

    def __init__(self, count: int | None = None) -> None:
        if count is None:
            count = min(2, os.cpu_count() or 1)
        self._clocks = [VoiceClock(f"voice-clock-{i}", phase=i * FRAME / count) for i in range(count)]
        self._lock = threading.Lock()

    def pick(self) -> VoiceClock:
        with self._lock:
            return min(self._clocks, key=len)

    def lag(self, now: float) -> float:  # the most of any clock's
        return max(clock.lag(now) for clock in self._clocks)

    def close(self) -> None:
        """Stop every clock's thread (the bot's close, after every player has stopped)."""
        for clock in self._clocks:
            clock.close()


class HasVoiceClocks(Protocol):
    """What a :class:`~audio.clocked_voice_client.ClockedVoiceClient` needs of its ``client``: the
    clocks it sends on belong to the bot, which starts and stops them."""

    @property
    def voice_clocks(self) -> VoiceClocks: ...
