"""One log line when the bot's voice is not end-to-end encrypted (DAVE) while someone listens.

Discord requires DAVE for voice: a listener's client drops frames that are not encrypted for its
group. discord.py 2.7 falls back to plain frames without a word, both when the voice server offers
no DAVE (protocol version 0) and while the bot is not in the call's group, which after a commit or
welcome it could not process (it answers op 31 and starts over) can last. Neither raises an event,
so a watch per voice client reads discord.py's own test for encrypting a frame every half second.
A plain stretch shorter than the grace (joining a call takes one MLS round trip) is not reported.
"""

from __future__ import annotations

import asyncio
import enum
import logging

import discord

from bot.checks import listeners

log = logging.getLogger(__name__)

CHECK_PERIOD = 0.5
GRACE = 3.0


class Privacy(enum.Enum):
    ENCRYPTED = "end-to-end encrypted"
    NO_DAVE = "the voice server did not offer DAVE (protocol version 0)"
    NOT_IN_GROUP = "the bot is not in the call's DAVE group (handshake unfinished or failed), so listeners' clients drop this audio"


def privacy_of(client: discord.VoiceClient) -> Privacy:
    """What discord.py's ``_get_voice_packet`` would do with the next frame."""
    state = client._connection
    if state.can_encrypt:
        return Privacy.ENCRYPTED
    return Privacy.NO_DAVE if state.dave_protocol_version == 0 else Privacy.NOT_IN_GROUP


class PrivacyWatch:
    """Turns observations into at most one line per plain stretch, and one when it is over."""

    def __init__(self, guild_id: int, grace: float = GRACE) -> None:
        self._guild_id = guild_id
        self._grace = grace
        self._plain_since: float | None = None
        self._reported: Privacy | None = None

    def observe(self, privacy: Privacy, heard: bool, now: float) -> None:
        """``heard``: someone besides bots is in the channel."""
        if privacy is Privacy.ENCRYPTED:
            if self._reported is not None:
                log.info("Voice in guild %s is end-to-end encrypted (DAVE) again", self._guild_id)
            self._plain_since = self._reported = None
            return
        if not heard:
            self._plain_since = None
            return
        if self._plain_since is None:
            self._plain_since = now
        if now - self._plain_since >= self._grace and self._reported is not privacy:
            self._reported = privacy
            log.warning(
                "Voice in guild %s is NOT end-to-end encrypted: %s",
                self._guild_id, privacy.value,
            )


class PrivacyWatches:
    """One watch task per connected voice client; a task ends when its client is no longer the guild's."""

    def __init__(self, period: float = CHECK_PERIOD, grace: float = GRACE) -> None:
        self.period = period
        self.grace = grace
        self._tasks: dict[int, asyncio.Task[None]] = {}

    def start(self, client: discord.VoiceClient) -> None:
        guild_id = client.guild.id
        previous = self._tasks.pop(guild_id, None)
        if previous is not None:
            previous.cancel()
        task = asyncio.get_running_loop().create_task(self._watch(client), name=f"voice-privacy-{guild_id}")
        self._tasks[guild_id] = task
        task.add_done_callback(lambda done: self._tasks.pop(guild_id, None) if self._tasks.get(guild_id) is done else None)

    async def _watch(self, client: discord.VoiceClient) -> None:
        loop = asyncio.get_running_loop()
        watch = PrivacyWatch(client.guild.id, self.grace)
        while client.guild.voice_client is client:
            if client.is_connected():
                watch.observe(privacy_of(client), bool(listeners(client.channel)), loop.time())
            await asyncio.sleep(self.period)
