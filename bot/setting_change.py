"""A member changes a server setting (read by ``parse_setting``): it is stored, and what it governs
now follows it.

The `settings` command and the shortcuts (`queuemode`, `autoplay`) all change a setting here, so
a value is stored one way and a live queue takes a new queue mode at once, whichever way it came.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord

from audio.queue import TrackQueue
from audio.queue_order import QueueMode, ordered
from bot.guild_settings import GuildSettings
from bot.setting_specs import SettingSpec

if TYPE_CHECKING:
    from bot.bot import BrentBot

log = logging.getLogger(__name__)


async def change_setting(bot: BrentBot, guild: discord.Guild, spec: SettingSpec, stored: str | None) -> GuildSettings:
    """Store ``stored`` (None: the default) as ``guild``'s ``spec``; the server's settings now."""
    current = await bot.guild_settings.change(bot.store, guild.id, spec, stored)
    log.info("guild %s changed setting %s", guild.id, spec.name)
    if spec.name == "queuemode" and (player := bot.players.get(guild.id)) is not None:
        reorder(player.queue, current.queue_mode)
    return current


def reorder(queue: TrackQueue, mode: QueueMode) -> None:
    """Give a live queue ``mode``; the tracks already waiting take its order too."""
    if queue.mode is not mode:
        queue.mode = mode
        queue.reset(ordered(list(queue), mode, queue.last_popped))
