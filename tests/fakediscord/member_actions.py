"""What members, moderators and Discord itself do to the fake's world, as FakeDiscord's methods.

Each action runs on the fake's own loop (``notifier.run``), so it is ordered with what the bot sends.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tests.fakediscord.model import FakeChannel, FakeGuild, FakeUser
from tests.fakediscord.rest import InjectedFailure
from tests.fakediscord.world import InjectedMessage

if TYPE_CHECKING:
    from tests.fakediscord.gateway import Gateway
    from tests.fakediscord.rest import RestApi
    from tests.fakediscord.voice import VoiceServer
    from tests.fakediscord.waiting import Notifier
    from tests.fakediscord.world import World

_MENTION = re.compile(r"<@!?(\d+)>")


def thing_id(thing: FakeGuild | FakeChannel | FakeUser | int) -> int:
    return thing if isinstance(thing, int) else thing.id


class MemberActions:
    world: World
    voice: VoiceServer
    gateway: Gateway
    rest: RestApi
    notifier: Notifier

    # --- things members do ------------------------------------------------------------------------------

    async def inject_message(
        self, guild: FakeGuild | int, channel: FakeChannel | int, author: FakeUser | int, content: str
    ) -> InjectedMessage:
        """A member types ``content`` in ``channel``: MESSAGE_CREATE goes to the bot.

        ``<@id>`` mentions in the text are listed in ``mentions`` as Discord does (a bot without
        the message-content intent still sees messages that mention it).
        """

        def act() -> InjectedMessage:
            user = self.world.users[thing_id(author)]
            mentioned = [self.world.users[int(m)] for m in _MENTION.findall(content) if int(m) in self.world.users]
            sent_at = time.perf_counter()
            data = self.world.create_message(thing_id(channel), user, content, mentions=mentioned)
            return InjectedMessage(int(data["id"]), thing_id(guild), thing_id(channel), user.id, content, sent_at)

        return await self.notifier.run(self._act(act))

    async def member_join_voice(self, guild: FakeGuild | int, member: FakeUser | int, channel: FakeChannel | int) -> None:
        await self.notifier.run(self._act(lambda: self.world.set_voice(thing_id(guild), self.world.users[thing_id(member)], thing_id(channel))))

    async def member_leave_voice(self, guild: FakeGuild | int, member: FakeUser | int) -> None:
        await self.notifier.run(self._act(lambda: self.world.set_voice(thing_id(guild), self.world.users[thing_id(member)], None)))

    async def disconnect_bot_from_voice(self, guild: FakeGuild | int) -> None:
        """A moderator drags the bot out: VOICE_STATE_UPDATE with no channel, voice websocket closed 4014."""

        def act() -> None:
            self.world.set_voice(thing_id(guild), self.world.bot, None)
            self.voice.forget_guild(thing_id(guild))
            self.voice.close_guild(thing_id(guild), 4014)

        await self.notifier.run(self._act(act))

    async def poke_old_voice_sockets(self, guild: FakeGuild | int) -> None:
        """Wake a discord.py 2.7.1 socket reader parked on a replaced UDP socket after a move.

        discord.py's reader thread sits in a 30 s ``select`` on the socket it had before the move
        and only then looks at the new one, where the IP discovery reply waits. One datagram to each
        closed session's address ends that wait. Real Discord sends nothing there, so a bot that
        moves will see the 30 s stall; tests that need a finished move call this deliberately.
        """

        def act() -> None:
            for session in self.voice.sessions:
                if session.guild_id == thing_id(guild) and session.closed and session.client_address:
                    self.voice.poke(session.client_address)

        await self.notifier.run(self._act(act))

    async def close_gateway(self, code: int = 4000) -> None:
        """Drop the bot's main gateway connection; discord.py should reconnect and RESUME."""
        await self.notifier.run(self.gateway.close_all(code))

    def fail_rest(
        self, method: str, path_contains: str, *, status: int = 403, code: int = 50013,
        message: str = "Missing Permissions", times: int | None = 1,
    ) -> None:
        """Make the next ``times`` matching REST calls fail (default: 403 Missing Permissions once)."""
        failure = InjectedFailure(method, path_contains, status, code, message, times)
        self.notifier.call(lambda: self.rest.failures.append(failure))

    async def drop_bot_voice(self, guild: FakeGuild | int, code: int = 4000) -> None:
        """The voice server closes the bot's voice websocket with ``code``; the bot stays in the
        channel as far as the main gateway knows (4000: discord.py reconnects with a new session)."""
        await self.notifier.run(self._act(lambda: self.voice.close_guild(thing_id(guild), code)))

    async def remove_bot_from_guild(self, guild: FakeGuild | int) -> None:
        """The bot is kicked: its voice state goes and GUILD_DELETE (without ``unavailable``) arrives."""

        def act() -> None:
            guild_id = thing_id(guild)
            if self.world.voice_channel_of(guild_id, self.world.bot.id) is not None:
                self.world.set_voice(guild_id, self.world.bot, None)
                self.voice.forget_guild(guild_id)
                self.voice.close_guild(guild_id, 4014)
            self.world.dispatch("GUILD_DELETE", {"id": str(guild_id)}, 1)
            del self.world.guilds[guild_id]  # a later IDENTIFY must not list it again
            self.world.changed()

        await self.notifier.run(self._act(act))

    async def request_reconnect(self) -> None:
        """Send op 7 RECONNECT; discord.py closes and RESUMEs at once (``gateway.resume_count``)."""
        await self.notifier.run(self._act(self.gateway.request_reconnect))

    @staticmethod
    async def _act(fn: Callable[[], Any]) -> Any:
        return fn()
