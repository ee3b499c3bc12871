"""Simulated listening parties for the queue modes: who waits how long, and in which order tracks play.

A party is a few members asking for tracks over an evening, played by the real
:class:`audio.queue.TrackQueue` in each mode on a simulated clock (no audio, no Discord: what is
measured is the order the queue gives, which is all a mode changes). Each scenario is run with many
seeds; a seed fixes the members' request times and track lengths, so every mode sees the very same
requests and differences come from the mode alone.

The wait of a track is the time from its request to its start. Figures per member are taken over
runs (one figure per run: that member's median wait, or the wait of their first track), and the
report gives min, median, p95 and max of them.
"""

from __future__ import annotations

import logging
import random
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from audio.queue import TrackQueue
from audio.queue_order import QueueMode
from audio.track import Provider, Track
from benchmarks._figures import Spread

log = logging.getLogger(__name__)

MINUTE = 60.0


@dataclass(frozen=True, slots=True)
class Request:
    at: float  # seconds into the party
    member: str
    duration: float  # seconds


@dataclass(frozen=True, slots=True)
class Played:
    member: str
    requested_at: float
    started_at: float

    @property
    def wait(self) -> float:
        return self.started_at - self.requested_at


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    description: str
    requests: Callable[[random.Random], list[Request]]


def _song(rng: random.Random) -> float:
    """A pop-song length: 2.5 to 5.5 minutes, most near 3.5."""
    return min(330.0, max(150.0, rng.gauss(210.0, 35.0)))


def _burst_party(rng: random.Random) -> list[Request]:
    """Alice queues a 50-track playlist at the start; bob and carol ask for one song every 8-16 minutes;
    dave arrives after 20 minutes with a burst of 5."""
    requests = [Request(rng.uniform(0, 5), "alice", _song(rng)) for _ in range(50)]
    requests.sort(key=lambda r: r.at)
    for member, first in (("bob", 30.0), ("carol", 90.0)):
        at = first + rng.uniform(0, 60)
        while at < 120 * MINUTE:
            requests.append(Request(at, member, _song(rng)))
            at += rng.uniform(8 * MINUTE, 16 * MINUTE)
    dave = 20 * MINUTE + rng.uniform(0, 60)
    requests += [Request(dave + i, "dave", _song(rng)) for i in range(5)]
    return requests


def _long_mixes(rng: random.Random) -> list[Request]:
    """Erin queues ten 20-minute DJ mixes; frank and gina queue songs in bursts of 3 every 30 minutes."""
    requests = [Request(rng.uniform(0, 5), "erin", rng.uniform(18 * MINUTE, 22 * MINUTE)) for _ in range(10)]
    for member, offset in (("frank", 10.0), ("gina", 7 * MINUTE)):
        at = offset + rng.uniform(0, 30)
        while at < 120 * MINUTE:
            requests += [Request(at + i, member, _song(rng)) for i in range(3)]
            at += 30 * MINUTE + rng.uniform(-120, 120)
    return requests


def _even_party(rng: random.Random) -> list[Request]:
    """Four members, each asking for one song every 10-20 minutes: nobody floods the queue."""
    requests = []
    for member in ("hana", "ivan", "jo", "kim"):
        at = rng.uniform(0, 3 * MINUTE)
        while at < 120 * MINUTE:
            requests.append(Request(at, member, _song(rng)))
            at += rng.uniform(10 * MINUTE, 20 * MINUTE)
    return requests


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("burst", "alice queues a 50-track playlist; bob and carol ask for a song every 8-16 min; dave arrives after 20 min with 5", _burst_party),
    Scenario("long mixes", "erin queues ten 20-minute mixes; frank and gina queue 3 songs every 30 min", _long_mixes),
    Scenario("even", "four members, a song each every 10-20 min", _even_party),
)
MODES: tuple[QueueMode, ...] = (QueueMode.FIFO, QueueMode.FAIR, QueueMode.FAIR_TIME)


def simulate(requests: Sequence[Request], mode: QueueMode) -> list[Played]:
    """Play the party through a TrackQueue in ``mode`` (room for every request).

    Nothing leaves the queue while a track plays, so adding a request when the current track ends
    (in arrival order) places it exactly where adding it on arrival would have.
    """
    ids = {member: n for n, member in enumerate(sorted({r.member for r in requests}), start=1)}
    pending = sorted(requests, key=lambda r: r.at)
    queue = TrackQueue(mode=mode)
    asked: dict[int, Request] = {}
    played: list[Played] = []
    clock, index = 0.0, 0
    while index < len(pending) or queue:
        if not queue:
            clock = max(clock, pending[index].at)  # idle until the next request
        while index < len(pending) and pending[index].at <= clock:
            request = pending[index]
            track = Track(
                f"{request.member}-{index}", f"https://media.test/{index}", request.duration, None, None,
                Provider.DIRECT, ids[request.member],
            )  # fmt: skip
            asked[id(track)] = request
            queue.add(track)
            index += 1
        nxt = queue.pop_next()
        assert nxt is not None
        request = asked.pop(id(nxt))
        played.append(Played(request.member, request.at, clock))
        clock += request.duration
    return played


@dataclass(frozen=True, slots=True)
class MemberFigures:
    member: str
    tracks: int  # per run (the same in every run of a scenario, up to the random arrivals)
    median_wait: Spread  # of each run's median wait, minutes
    first_wait: Spread  # of each run's wait for the member's first track, minutes
    worst_wait: Spread  # of each run's longest wait, minutes


@dataclass(frozen=True, slots=True)
class ModeResult:
    scenario: Scenario
    mode: QueueMode
    members: tuple[MemberFigures, ...]
    example_order: str  # the first plays of the first run, one letter per member


def study(scenario: Scenario, mode: QueueMode, runs: int) -> ModeResult:
    per_member: dict[str, list[list[Played]]] = {}
    example = ""
    for seed in range(runs):
        played = simulate(scenario.requests(random.Random(seed)), mode)
        if seed == 0:
            example = " ".join(p.member[0].upper() for p in played[:24])
        by_member: dict[str, list[Played]] = {}
        for entry in played:
            by_member.setdefault(entry.member, []).append(entry)
        for member, entries in by_member.items():
            per_member.setdefault(member, []).append(entries)
    members = []
    for member, runs_of_member in sorted(per_member.items()):
        members.append(
            MemberFigures(
                member,
                round(statistics.median(len(r) for r in runs_of_member)),
                Spread.of([statistics.median(p.wait for p in r) / MINUTE for r in runs_of_member]),
                Spread.of([r[0].wait / MINUTE for r in runs_of_member]),
                Spread.of([max(p.wait for p in r) / MINUTE for r in runs_of_member]),
            )
        )
    return ModeResult(scenario, mode, tuple(members), example)
