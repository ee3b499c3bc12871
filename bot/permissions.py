"""Who may force playback changes, and the vote that lets everyone else skip.

DJs (the configured role, or anyone with Manage Channels) act at once. Everyone else votes to skip:
a majority of the humans listening passes it, and whoever queued a track may always skip it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import discord

from bot.checks import VoiceRuleError


def is_dj(member: discord.Member, dj_role: str | None) -> bool:
    if member.guild_permissions.manage_channels:
        return True
    if not dj_role:
        return False
    wanted = dj_role.casefold()
    return any(role.name.casefold() == wanted for role in member.roles)


@dataclass(frozen=True, slots=True)
class VoteTally:
    passed: bool
    votes: int
    needed: int


@dataclass
class SkipVote:
    """Votes for skipping one particular track; a new track starts a new vote."""

    track_token: object = None
    voters: set[int] = field(default_factory=set)

    def cast(self, track_token: object, voter_id: int, listener_ids: Iterable[int]) -> VoteTally:
        if track_token is not self.track_token:
            self.track_token = track_token
            self.voters = set()
        audience = set(listener_ids)
        self.voters &= audience  # people who left no longer count
        if voter_id in audience:
            self.voters.add(voter_id)
        needed = len(audience) // 2 + 1
        return VoteTally(passed=len(self.voters) >= needed, votes=len(self.voters), needed=needed)


def require_dj(member: discord.abc.User, dj_role: str | None, action: str) -> None:
    """Refuse ``action`` unless the member is a DJ; the reply says how to become one."""
    if isinstance(member, discord.Member) and is_dj(member, dj_role):
        return
    who = f"the {dj_role} role or " if dj_role else ""
    raise VoiceRuleError(f"Only members with {who}Manage Channels can {action}.")
