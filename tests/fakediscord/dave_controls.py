"""FakeDiscord's DAVE side for tests: watch the group change and make the bot's part fail."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.fakediscord.dave import DaveCall, DaveEpoch
from tests.fakediscord.model import FakeGuild

if TYPE_CHECKING:
    from tests.fakediscord.voice import VoiceServer
    from tests.fakediscord.waiting import Notifier


def _guild_id(guild: FakeGuild | int) -> int:
    return guild if isinstance(guild, int) else guild.id


class DaveControls:
    """Mixed into FakeDiscord (``FakeDiscord(dave=True)``); every call reads the fake's own loop."""

    notifier: Notifier
    voice: VoiceServer

    def _dave_call(self, guild_id: int) -> DaveCall | None:
        calls = [s.dave for s in self.voice.active_sessions(guild_id) if s.dave is not None]
        return calls[-1] if calls else None

    def dave_epochs(self, guild: FakeGuild | int) -> list[DaveEpoch]:
        """Every group change executed in the bot's current voice session, oldest first."""

        def read() -> list[DaveEpoch]:
            call = self._dave_call(_guild_id(guild))
            return [] if call is None else list(call.epochs)

        return self.notifier.call(read)

    async def wait_for_dave_group(self, guild: FakeGuild | int, members: set[int], timeout: float = 10.0) -> DaveEpoch:
        """Until the newest executed epoch's group is exactly ``members`` (user ids, the bot's included)."""
        guild_id = _guild_id(guild)

        def probe() -> DaveEpoch | None:
            call = self._dave_call(guild_id)
            if call is None or not call.epochs:
                return None
            newest = call.epochs[-1]
            return newest if set(newest.members) == members else None

        def describe() -> str:
            call = self._dave_call(guild_id)
            seen = [] if call is None else [(e.epoch, e.members) for e in call.epochs]
            return f"a DAVE group of {sorted(members)} in guild {guild_id}; epochs so far: {seen}"

        return await self.notifier.wait(probe, timeout, describe)

    def dave_invalid_reports(self, guild: FakeGuild | int) -> list[int]:
        """Transition ids the bot answered with op 31 (it could not process a commit or welcome)."""

        def read() -> list[int]:
            call = self._dave_call(_guild_id(guild))
            return [] if call is None else list(call.invalid_from_bot)

        return self.notifier.call(read)

    def break_dave_for_bot(self, guild: FakeGuild | int, broken: bool = True) -> None:
        """From now on the bot gets damaged commits and welcomes, in this voice session and the next ones
        (``broken=False`` mends it)."""

        def act() -> None:
            (self.voice.dave_broken.add if broken else self.voice.dave_broken.discard)(_guild_id(guild))
            for session in self.voice.active_sessions(_guild_id(guild)):
                if session.dave is not None:
                    session.dave.corrupt_for_bot = broken

        self.notifier.call(act)
