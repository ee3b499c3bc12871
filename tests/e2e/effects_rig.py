"""What the filter and pass-through scenarios share: the real bot against the loopback Discord, a
member who types commands, the voice clock's count of missed packet slots, and their media."""

from __future__ import annotations

import dataclasses
import subprocess
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import numpy as np

from bot.bot import BrentBot, create_bot
from bot.settings import Settings
from tests.fakediscord import FakeDiscord, FakeGuild, FakeUser, InjectedMessage, pointed_at, running
from tests.fakediscord.recorder import SAMPLE_RATE
from tests.media import FFMPEG

PREFIX = "\\"
DJ_ROLE = "DJ"

StartBrent = Callable[..., AbstractAsyncContextManager[BrentBot]]


@dataclasses.dataclass
class Member:
    fake: FakeDiscord
    guild: FakeGuild
    user: FakeUser

    async def join_voice(self) -> None:
        await self.fake.member_join_voice(self.guild, self.user, self.guild.voice_channel)

    async def say(self, command: str) -> InjectedMessage:
        return await self.fake.inject_message(
            self.guild, self.guild.text_channel, self.user, PREFIX + command
        )

    async def ask(
        self, command: str, expect: str, timeout: float = 15.0
    ) -> tuple[InjectedMessage, dict[str, Any]]:
        sent = await self.say(command)
        return sent, await self.fake.wait_for_message(self.guild.text_channel, expect, timeout, after=sent)


def music_guild(fake: FakeDiscord) -> Member:
    """A guild with #general and voice channel Music; alice has the DJ role."""
    guild = fake.add_guild(
        "Effects Guild", voice_channels=("Music",), members=("alice", "bob"),
        roles={DJ_ROLE: 0}, member_roles={"alice": (DJ_ROLE,)},
    )  # fmt: skip
    return Member(fake, guild, guild.member("alice"))


def brent_starter(fake: FakeDiscord, data_dir: Path) -> StartBrent:
    @asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[BrentBot]:
        settings = Settings(
            command_prefix=PREFIX, allow_private_network=True, idle_timeout=60.0,
            dj_role=DJ_ROLE, data_dir=data_dir, **overrides,
        )  # fmt: skip
        bot = create_bot(settings, connector=fake.connector(), guild_ready_timeout=0.1)
        with pointed_at(fake):
            async with running(bot):
                yield bot

    return start


def missed_slots(bot: BrentBot) -> int:
    """Packet slots the bot's voice clock skipped because the source had no frame (a gap heard)."""
    return sum(getattr(getattr(voice, "_player", None), "skipped", 0) for voice in bot.voice_clients)


def band_energy(pcm: np.ndarray, low_hz: float, high_hz: float) -> float:
    """Spectral energy of ``pcm`` (int16, (n, 2)) between two frequencies."""
    signal = pcm.astype(np.float64).mean(axis=1)
    spectrum = np.abs(np.fft.rfft(signal * np.hanning(signal.size))) ** 2
    freqs = np.fft.rfftfreq(signal.size, 1 / SAMPLE_RATE)
    return float(spectrum[(freqs >= low_hz) & (freqs < high_hz)].sum())


def generate_mix(
    path: Path, frequencies: tuple[int, ...], seconds: float, *, codec: list[str] | None = None
) -> Path:
    """Sines of ``frequencies`` mixed, stereo 48 kHz; the container follows the extension."""
    inputs: list[str] = []
    for hz in frequencies:
        inputs += ["-f", "lavfi", "-i", f"sine=frequency={hz}:sample_rate=48000:duration={seconds}"]
    mix = f"amix=inputs={len(frequencies)}:normalize=0" if len(frequencies) > 1 else "anull"
    subprocess.run(
        [FFMPEG, "-nostdin", "-v", "error", "-y", *inputs, "-filter_complex", mix,
         "-ac", "2", "-ar", "48000", *(codec or []), str(path)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return path
