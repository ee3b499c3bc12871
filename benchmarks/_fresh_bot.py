"""The first ``play`` of a bot process just started, as a user meets it: ``python main.py``, then ``play``.

Every sample is its own process against its own loopback fake Discord: BRENT is the shipped
``main.py`` (a ``credentials.env`` written here; only the environment from
``FakeDiscord.subprocess_env()`` differs from a real start), the baseline is
``benchmarks/_bot_process.py --kind baseline``. The command is sent as soon as the bot has
identified, which is when Discord shows it online: whatever the bot builds later is on the clock.

* already in voice: ``join <channel>``, then (the bot in the channel) ``play`` -- the process's first play;
* joining: ``play`` while the bot is in no channel -- the process's first play and first join.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import os
import sys
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from benchmarks._bot_process import PREFIX
from benchmarks._voice_rig import REPO, Media
from tests.e2e.brent_rig import MADE_UP_TOKEN, MAIN_PY
from tests.fakediscord import FakeDiscord, FakeGuild

log = logging.getLogger(__name__)

START_TIMEOUT = 60.0


class Entry(enum.Enum):
    IN_VOICE = "already in voice"
    JOINING = "joining voice"


@dataclass(frozen=True, slots=True)
class FirstPlay:
    """One fresh process's first ``play``: command to first voice packet, and start to ready."""

    entry: Entry
    latency_ms: float
    ready_s: float  # process start to IDENTIFY (when Discord shows the bot online)
    load: float  # the machine's 1-minute load average when the command was sent
    log_text: str  # the bot's own log of the run, for the hops


def credentials(workdir: Path) -> str:
    return (
        f"CLIENT_TOKEN={MADE_UP_TOKEN}\nCOMMAND_PREFIX={PREFIX}\nALLOW_PRIVATE_NETWORK=1\n"
        f"DATA_DIR={workdir / 'data'}\nDJ_ROLE=DJ\nLOG_LEVEL={os.environ.get('BRENT_BENCH_LOG_LEVEL', 'INFO')}\n"
    )


@contextlib.asynccontextmanager
async def started(fake: FakeDiscord, kind: str, workdir: Path) -> AsyncIterator[float]:
    """A fresh bot process of ``kind``; yields the seconds from its start to its IDENTIFY."""
    env = fake.subprocess_env()
    env.pop("CLIENT_TOKEN", None)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (env.get("PYTHONPATH", ""), str(REPO)) if p)
    if kind == "brent":
        env_file = workdir / "credentials.env"
        env_file.write_text(credentials(workdir))
        env_file.chmod(0o600)
        argv = [sys.executable, str(MAIN_PY), "--env-file", str(env_file)]
    else:
        argv = [sys.executable, "-m", "benchmarks._bot_process", "--kind", kind, "--data-dir", str(workdir / "data")]
    loop = asyncio.get_running_loop()
    with (workdir / "stderr.log").open("wb") as err:
        began = loop.time()
        proc = await asyncio.create_subprocess_exec(
            *argv, cwd=workdir if kind == "brent" else REPO, env=env,
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL, stderr=err,
        )
        try:
            await fake.wait_for_ready(timeout=START_TIMEOUT)
            yield loop.time() - began
        finally:
            if proc.returncode is None:
                proc.terminate()
                try:
                    await asyncio.wait_for(proc.wait(), 30)
                except TimeoutError:
                    proc.kill()
                    await proc.wait()


def bot_log(workdir: Path) -> str:
    """BRENT's logs/brent.log (its console copy on stderr is the same); the baseline's stderr."""
    path = workdir / "logs" / "brent.log"
    return (path if path.exists() else workdir / "stderr.log").read_text(errors="replace")


async def first_play(kind: str, entry: Entry, media: Media, tag: str) -> FirstPlay:
    """Start a bot, send its first ``play`` the way ``entry`` says, and time the first packet."""
    with tempfile.TemporaryDirectory(prefix=f"brent-bench-fresh-{kind}-") as tmp:
        workdir = Path(tmp)
        async with FakeDiscord() as fake:
            guild: FakeGuild = fake.add_guild(
                "Fresh", members=("alice",), roles={"DJ": 0}, member_roles={"alice": ("DJ",)},
            )
            alice = guild.member("alice")
            await fake.member_join_voice(guild, alice, guild.voice_channel)
            async with started(fake, kind, workdir) as ready_s:
                if entry is Entry.IN_VOICE:
                    await fake.inject_message(guild, guild.text_channel, alice, f"{PREFIX}join {guild.voice_channel.id}")
                    await fake.wait_for_bot_voice(guild, guild.voice_channel, timeout=30)
                recorder = fake.voice_log(guild)
                sent = await fake.inject_message(
                    guild, guild.text_channel, alice, f"{PREFIX}play {media.url('tone_a.mp3', tag)}"
                )
                await recorder.wait_for_audio(0.2, timeout=30, after=sent.sent_at)
                first = recorder.first_audio_after(sent.sent_at)
                assert first is not None
                latency_ms = (first.arrival - sent.sent_at) * 1000
                load = os.getloadavg()[0]
        return FirstPlay(entry, latency_ms, ready_s, load, bot_log(workdir))


async def first_plays(kind: str, media: Media, runs: int) -> dict[Entry, list[FirstPlay]]:
    """``runs`` fresh processes per entry, alternating the entries so drift hits both alike."""
    out: dict[Entry, list[FirstPlay]] = {entry: [] for entry in Entry}
    for i in range(runs):
        for entry in Entry:
            play = await first_play(kind, entry, media, f"{kind}-{entry.name}-{i}")
            out[entry].append(play)
            log.info("%s, %s, fresh process %d: %.1f ms (online after %.2f s, load %.1f)", kind, entry.value,
                     i + 1, play.latency_ms, play.ready_s, play.load)
    return out
