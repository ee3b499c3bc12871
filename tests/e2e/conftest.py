"""Fixtures for end-to-end tests: a fresh fake Discord per test, generated media served on 127.0.0.1.

Scenario tests create their bot inside the test (it needs ``fake.connector()`` from the running
loop), then run it with ``pointed_at(fake)`` and ``running(bot)`` from :mod:`tests.fakediscord`;
``start_brent`` does that for the real bot with every cog, and ``alice`` is the DJ who types.
Set BRENT_E2E_METRICS=<file.json> to collect each scenario's latency/gap numbers for benchmarks.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from bot.bot import BrentBot, create_bot
from bot.settings import Settings
from tests.e2e.brent_rig import DJ_ROLE, PREFIX, Member, StartBrent, add_music_guild
from tests.fakediscord import FakeDiscord, FakeGuild, ScenarioMetrics, pointed_at, running
from tests.media import MediaServer, generate_clock, generate_tone
from tests.media import media_server as serve_media

TONE_SECONDS = 3
SHORT_TONES = (500, 600, 700)
SHORT_SECONDS = 1.5


@pytest.fixture(scope="session")
def e2e_media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tone440.mp3 / tone660.mp3 (3 s each), tone880.mp3 (10 s, for pause/volume), clock.mp3 (8 s),
    and short1.mp3 / short2.mp3 / short3.mp3 (1.5 s at 500 / 600 / 700 Hz, for queue order)."""
    root = tmp_path_factory.mktemp("e2e-media")
    for index, freq in enumerate(SHORT_TONES, start=1):
        generate_tone(root / f"short{index}.mp3", freq, SHORT_SECONDS)
    generate_tone(root / "tone440.mp3", 440, TONE_SECONDS)
    generate_tone(root / "tone660.mp3", 660, TONE_SECONDS)
    generate_tone(root / "tone880.mp3", 880, 10)
    generate_clock(root / "clock.mp3", 8)
    return root


@pytest.fixture
def e2e_media(e2e_media_dir: Path) -> Iterator[MediaServer]:
    with serve_media(e2e_media_dir, hang_paths={"/hang.mp3"}) as server:
        yield server


@pytest.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as fake:
        yield fake


@pytest.fixture
def fake_guild(fake_discord: FakeDiscord) -> FakeGuild:
    """One guild: #general, voice channels Music and Lounge, members alice and bob."""
    return fake_discord.add_guild("Guild A", voice_channels=("Music", "Lounge"), members=("alice", "bob"))


@pytest.fixture
def start_brent(fake_discord: FakeDiscord, tmp_path: Path) -> StartBrent:
    """``async with start_brent(idle_timeout=...) as bot`` runs the real bot against the fake."""

    @asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[BrentBot]:
        settings = Settings(
            command_prefix=PREFIX, allow_private_network=overrides.pop("allow_private_network", True),
            idle_timeout=overrides.pop("idle_timeout", 60.0),
            dj_role=DJ_ROLE, data_dir=tmp_path, **overrides,
        )
        bot = create_bot(settings, connector=fake_discord.connector(), guild_ready_timeout=0.1)
        with pointed_at(fake_discord):
            async with running(bot):
                yield bot

    return start


@pytest.fixture
def alice(fake_discord: FakeDiscord) -> Member:
    guild = add_music_guild(fake_discord)
    return Member(fake_discord, guild, guild.member("alice"))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "e2e: end-to-end against the loopback Discord (real-time audio, slower)")


_collected: dict[str, dict[str, object]] = {}


@pytest.fixture
def record_metrics(request: pytest.FixtureRequest) -> Callable[[ScenarioMetrics], None]:
    """Keep a scenario's latency/gap numbers; written to $BRENT_E2E_METRICS at the end of the run."""

    def record(metrics: ScenarioMetrics) -> None:
        _collected[request.node.nodeid] = metrics.as_dict()

    return record


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    target = os.environ.get("BRENT_E2E_METRICS")
    if target and _collected:
        Path(target).write_text(json.dumps(_collected, indent=2))
