"""What a playback command and a controller button do, each with that command's own checks.

A button and its command call the same method here, so a member who may not pause with `pause` may
not pause with the button either, and both get the same reason (a :class:`BrentError`). The bot-wide
rules every command passes first (block lists, command channels) are ``BrentBot.check_member_here``.
Skip votes live here too: a vote begun with the command goes on with the button.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import discord

from audio.errors import PlayerError, QueueError
from audio.player import MAX_VOLUME, GuildPlayer, LoopMode
from bot.checks import listeners, require_listener
from bot.permissions import SkipVote, is_dj, require_dj
from bot.text import describe

if TYPE_CHECKING:
    from bot.bot import BrentBot

Member = discord.Member | discord.User
VOLUME_STEP = 10
LOOP_ORDER = (LoopMode.OFF, LoopMode.TRACK, LoopMode.QUEUE)


@dataclass(frozen=True, slots=True)
class Outcome:
    """The command's reply; ``changed`` is False when nothing changed yet (a skip vote still short)."""

    text: str
    changed: bool = True


class PlayerControls:
    def __init__(self, bot: BrentBot) -> None:
        self._bot = bot
        self._votes: dict[int, SkipVote] = {}

    def player(self, guild: discord.Guild, member: Member) -> GuildPlayer:
        """The guild's player, for a member in the bot's voice channel only."""
        require_listener(member, guild)
        return self._bot.player_for(guild)

    def pause(self, guild: discord.Guild, member: Member) -> Outcome:
        self.player(guild, member).pause()
        return Outcome("Paused.")

    def resume(self, guild: discord.Guild, member: Member) -> Outcome:
        self.player(guild, member).resume()
        return Outcome("Resumed.")

    def pause_or_resume(self, guild: discord.Guild, member: Member) -> Outcome:
        paused = self.player(guild, member).is_paused
        return self.resume(guild, member) if paused else self.pause(guild, member)

    def skip(self, guild: discord.Guild, member: Member) -> Outcome:
        """Skip at once for a DJ or whoever queued the track; everyone else casts a vote."""
        channel = require_listener(member, guild)
        player = self._bot.player_for(guild)
        current = player.current
        if current is None:
            raise PlayerError("Nothing is playing.")
        if current.requester_id != member.id and not (
            isinstance(member, discord.Member) and is_dj(member, self._bot.dj_role(guild))
        ):
            vote = self._votes.setdefault(guild.id, SkipVote())
            tally = vote.cast(current, member.id, [m.id for m in listeners(channel)])
            if not tally.passed:
                return Outcome(f"Vote to skip {describe(current)}: {tally.votes}/{tally.needed}.", changed=False)
        skipped = player.skip()
        self._votes.pop(guild.id, None)
        return Outcome(f"Skipped {describe(skipped or current)}.")

    async def stop(self, guild: discord.Guild, member: Member) -> Outcome:
        player = self.player(guild, member)
        require_dj(member, self._bot.dj_role(guild), "stop the music")
        await player.stop()
        return Outcome("Stopped and cleared the queue.")

    def set_volume(self, guild: discord.Guild, member: Member, percent: int) -> Outcome:
        player = self.player(guild, member)
        require_dj(member, self._bot.dj_role(guild), "change the volume")
        player.set_volume(percent)
        return Outcome(f"Volume set to {player.volume}%.")

    def step_volume(self, guild: discord.Guild, member: Member, step: int) -> Outcome:
        """The volume ``step`` points up or down, kept within 0-200."""
        current = self.player(guild, member).volume
        return self.set_volume(guild, member, min(max(current + step, 0), MAX_VOLUME))

    def set_loop(self, guild: discord.Guild, member: Member, mode: LoopMode) -> Outcome:
        player = self.player(guild, member)
        require_dj(member, self._bot.dj_role(guild), "change the loop mode")
        player.set_loop(mode)
        return Outcome(f"Loop: {player.loop_mode.value}.")

    def next_loop(self, guild: discord.Guild, member: Member) -> Outcome:
        """off -> track -> queue -> off."""
        current = self.player(guild, member).loop_mode
        return self.set_loop(guild, member, LOOP_ORDER[(LOOP_ORDER.index(current) + 1) % len(LOOP_ORDER)])

    async def shuffle(self, guild: discord.Guild, member: Member) -> Outcome:
        """Shuffle the queue; `undo` puts the order back."""
        player = self.player(guild, member)
        if len(player.queue) < 2:
            raise QueueError("There is nothing to shuffle.")
        before = tuple(player.queue)
        player.queue.shuffle()
        await self._bot.queue_memory.undo.remember(guild.id, "shuffle", before, tuple(player.queue), member_id=member.id)
        return Outcome(f"Shuffled {len(player.queue)} tracks.")
