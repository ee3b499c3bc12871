"""The listening-party simulation plays every request once, in the order the shipped queue gives."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from audio.queue_order import QueueMode
from benchmarks import SuiteOptions
from benchmarks.queue_modes import MODES, SCENARIOS, Request, simulate


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_every_request_plays_once_never_before_it_was_asked_nor_overlapping(scenario, mode) -> None:  # noqa: ANN001
    requests = scenario.requests(random.Random(3))
    played = simulate(requests, mode)
    assert sorted((p.member, p.requested_at) for p in played) == sorted((r.member, r.at) for r in requests)
    assert all(p.wait >= 0 for p in played)
    lengths = {(r.member, r.at): r.duration for r in requests}
    for before, after in zip(played, played[1:], strict=False):
        assert after.started_at >= before.started_at + lengths[(before.member, before.requested_at)] - 1e-9


def test_fifo_plays_in_arrival_order_and_fair_takes_turns() -> None:
    requests = [Request(0.0, "a", 100.0), Request(0.5, "a", 100.0), Request(0.6, "a", 100.0), Request(1.0, "b", 100.0)]
    assert [p.member for p in simulate(requests, QueueMode.FIFO)] == ["a", "a", "a", "b"]
    assert [p.member for p in simulate(requests, QueueMode.FAIR)] == ["a", "b", "a", "a"]


def test_the_quick_suite_reports_every_scenario(tmp_path: Path) -> None:
    from benchmarks.queue_modes_suite import run

    section = run(SuiteOptions(quick=True, img_dir=tmp_path, doc_dir=tmp_path))
    for scenario in SCENARIOS:
        assert f"### {scenario.name}" in section.markdown
    assert "### Conclusion" in section.markdown
