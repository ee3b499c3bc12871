"""The bot raises its soft open-file limit so many voice connections fit; it never lowers it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.open_files import raise_open_file_limit

resource = pytest.importorskip("resource", reason="descriptor limits are POSIX")


@pytest.fixture
def limits() -> Iterator[tuple[int, int]]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    yield soft, hard
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_a_low_soft_limit_is_raised_up_to_the_hard_one(limits: tuple[int, int]) -> None:
    _, hard = limits
    if hard != resource.RLIM_INFINITY and hard < 600:
        pytest.skip(f"the hard limit ({hard}) leaves nothing to raise")
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))  # macOS's usual soft limit
    wanted = 500 if hard == resource.RLIM_INFINITY else min(500, hard)
    assert raise_open_file_limit(500) == wanted
    assert resource.getrlimit(resource.RLIMIT_NOFILE) == (wanted, hard)


def test_a_higher_soft_limit_is_left_alone(limits: tuple[int, int]) -> None:
    soft, hard = limits
    if soft == resource.RLIM_INFINITY or soft < 300:
        pytest.skip("the soft limit is not above the asked value")
    assert raise_open_file_limit(256) == soft
    assert resource.getrlimit(resource.RLIMIT_NOFILE) == (soft, hard)
