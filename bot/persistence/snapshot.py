"""Turning a live GuildPlayer into the GuildState the store keeps.

Pure functions, so the rules (what counts as a change worth a full write, which position to keep
while a track is still starting) are tested without a bot.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.store import GuildState

if TYPE_CHECKING:
    from audio.buffer import ObservedBuffer

log = logging.getLogger(__name__)


def voice_channel_of(player: ObservedBuffer) -> int | None:
    """The channel the player is connected to; None once it was detached (leave, kick, idle)."""
    voice = player.voice
    if voice is None or not voice.is_connected():
        return None
    channel = getattr(voice, "channel", None)
    return getattr(channel, "id", None)


def player_snapshot(
    player: ObservedBuffer,
    *,
    voice_channel_id: int | None,
    text_channel_id: int | None,
    previous: GuildState | None = None,
) -> GuildState:
    """The player's state now.

    While a track is starting (ffmpeg not open yet) the player reports no position; if it is the
    track of the previous snapshot, that snapshot's position is kept, so a restored track that is
    still starting does not have its checkpoint reset to 0.
    """
    current = player.current
    position = player.position
    if current is None:
        position = 0.0
    elif position is None:
        position = previous.position if previous is not None and previous.current == current else 0.0
    return GuildState(
        guild_id=player.guild_id,
        voice_channel_id=voice_channel_id,
        text_channel_id=text_channel_id,
        loop_mode=player.loop_mode.value,
        volume=player.volume,
        current=current,
        position=max(0.0, float(position)),
        paused=player.is_paused if current is not None else False,
        queue=tuple(player.queue),
        filters=player.filters,
    )


def only_position_changed(before: GuildState, after: GuildState) -> bool:
    """True when a cheap checkpoint (position/paused) is enough to bring the saved row up to date."""
    return (
        before.guild_id == after.guild_id
        and before.voice_channel_id == after.voice_channel_id
        and before.text_channel_id == after.text_channel_id
        and before.loop_mode == after.loop_mode
        and before.volume == after.volume
        and before.filters == after.filters
        and before.current == after.current
        and before.queue == after.queue
    )
