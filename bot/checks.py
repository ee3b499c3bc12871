"""Who may do what with the player: the voice-channel rules every playback command shares.

They raise :class:`VoiceRuleError` (a :class:`BrentError`) so the one error handler replies with the
reason and nothing changes.
"""

from __future__ import annotations

import discord

from audio.errors import BrentError

VoiceLike = discord.VoiceChannel | discord.StageChannel


class VoiceRuleError(BrentError):
    """The member or the bot is not where the command needs them."""


def member_voice_channel(member: discord.abc.User) -> VoiceLike:
    """The voice channel the author is in, or a refusal telling them to join one."""
    voice = getattr(member, "voice", None)
    if voice is None or voice.channel is None:
        raise VoiceRuleError("Join a voice channel first.")
    return voice.channel


def bot_voice_channel(guild: discord.Guild) -> VoiceLike | None:
    client = guild.voice_client
    if client is None or not getattr(client, "is_connected", lambda: False)():
        return None
    return client.channel  # type: ignore[return-value]


def require_listener(member: discord.abc.User, guild: discord.Guild) -> VoiceLike:
    """Commands that change playback are for members in the bot's voice channel only."""
    channel = bot_voice_channel(guild)
    if channel is None:
        raise VoiceRuleError("I'm not in a voice channel. Use `play` or `join` first.")
    mine = member_voice_channel(member)
    if mine.id != channel.id:
        raise VoiceRuleError(f"Join me in {channel.mention} to control playback.")
    return channel


def listeners(channel: VoiceLike) -> list[discord.Member]:
    """The humans in a voice channel (bots never count as an audience)."""
    return [m for m in channel.members if not m.bot]
