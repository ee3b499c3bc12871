"""Getting the bot into the right voice channel, once, even when two commands race for it."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import discord

from audio.clocked_voice_client import ClockedVoiceClient
from bot.checks import VoiceLike, VoiceRuleError, listeners
from bot.text import safe_text
from bot.voice_privacy import PrivacyWatches

if TYPE_CHECKING:
    from audio.player import GuildPlayer
    from bot.bot import BrentBot

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 20.0
_RECONNECT_POLL = 0.1


async def voice_comes_back(guild: discord.Guild, timeout: float = CONNECT_TIMEOUT + 5.0) -> bool:
    """After the bot's voice state lost its channel: is this discord.py reconnecting?

    discord.py's reconnect (after the voice websocket closed) leaves the channel and joins again
    with the same VoiceClient; an outside disconnect makes it drop the client. Neither raises an
    event we can await, so this polls the client until it is connected again (True) or gone or
    the time is up (False).
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        client = guild.voice_client
        if not isinstance(client, discord.VoiceClient):
            return False
        if client.is_connected():
            return True
        if loop.time() >= deadline:
            return False
        await asyncio.sleep(_RECONNECT_POLL)


class VoiceConnector:
    """Connects, moves or reuses the guild's voice client and hands it to the guild's player."""

    def __init__(self, bot: BrentBot) -> None:
        self._bot = bot
        self._locks: dict[int, asyncio.Lock] = {}
        self.privacy = PrivacyWatches()  # logs a voice connection that is not end-to-end encrypted

    async def connect(self, guild: discord.Guild, channel: VoiceLike) -> GuildPlayer:
        allowed = self._bot.guild_settings.get(guild.id).voice_channel_id
        if allowed is not None and channel.id != allowed:
            named = guild.get_channel(allowed)
            where = safe_text(named.name, 100) if named is not None else "the channel set with `settings voice`"
            raise VoiceRuleError(f"I only join {where} in this server.")
        lock = self._locks.setdefault(guild.id, asyncio.Lock())
        async with lock:
            player = self._bot.player_for(guild)
            client = guild.voice_client
            if isinstance(client, discord.VoiceClient) and client.is_connected():
                if client.channel.id != channel.id:
                    if player.current is not None and listeners(client.channel):
                        raise VoiceRuleError(
                            f"I'm playing in {client.channel.mention} right now; join me there."
                        )
                    # A fresh connection rather than move_to: discord.py 2.7.1's moved client can
                    # wait ~30 s on its old UDP socket before audio flows (see tests/fakediscord).
                    await player.detach()
                    await client.disconnect(force=True)
                    client = await self._open(channel)
            else:
                if client is not None:
                    await client.disconnect(force=True)
                client = await self._open(channel)
            player.voice = client
            return player

    async def disconnect(self, guild: discord.Guild) -> bool:
        """Leave voice and stop playback; the queue stays. False when there was nothing to leave."""
        lock = self._locks.setdefault(guild.id, asyncio.Lock())
        async with lock:
            player = self._bot.players.get(guild.id)
            if player is not None:
                await player.detach()
            client = guild.voice_client
            if client is None:
                return player is not None and player.voice is not None
            await client.disconnect(force=True)
            return True

    def forget(self, guild_id: int) -> None:
        """Drop the guild's lock (the bot left the guild); an idle guild costs nothing."""
        lock = self._locks.get(guild_id)
        if lock is not None and not lock.locked():
            del self._locks[guild_id]

    async def _open(self, channel: VoiceLike) -> discord.VoiceClient:
        me = channel.guild.me
        perms = channel.permissions_for(me)
        if not (perms.connect and perms.speak):
            raise VoiceRuleError(f"I need the Connect and Speak permissions in {channel.mention}.")
        try:
            client = await channel.connect(timeout=CONNECT_TIMEOUT, self_deaf=True, cls=ClockedVoiceClient)
        except TimeoutError as exc:
            raise VoiceRuleError("I couldn't connect to voice in time. Try again in a moment.") from exc
        except discord.ClientException as exc:
            raise VoiceRuleError("I'm already connecting to voice; try again in a moment.") from exc
        self.privacy.start(client)
        return client
