"""The now-playing controller: one message per server, posted when a track starts and then edited.

:class:`Controllers` is a player-event subscriber. The first track of a session posts a message in
the server's announce channel, or where music was asked for, or nowhere when the server turned it
off; every later event only marks it changed. Each :class:`Controller` has one task that edits its
message as :class:`~bot.edit_pacer.EditPacer` allows, from the player's state at that moment (so
a burst of events is one edit), and a last time when the music ends (queue done, stopped, left
voice): then its buttons go, and the next start posts a new message. Its buttons are
:class:`bot.controller_view.ControllerView`'s custom ids; the persistent view answers them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

import discord

from audio.events import EndReason, PlayerEvent, TrackEnded, TrackStarted
from audio.player import GuildPlayer
from audio.track import Track
from bot.controller_view import shown_buttons
from bot.edit_pacer import EditPacer
from bot.guild_settings import GuildSettings
from bot.track_embeds import NowPlaying, finished_embed, now_playing_embed

if TYPE_CHECKING:
    from bot.bot import BrentBot

log = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()


def controller_channel_id(settings: GuildSettings, asked_in: int | None, usable: Callable[[int], bool]) -> int | None:
    """The server's announce channel, else (``here``, or the announce channel is gone) where music was
    asked for; None when the server turned the controller off or no such channel can be written in."""
    if settings.announce == "off":
        return None
    chosen = settings.announce_channel_id(asked_in)
    if chosen is None or not usable(chosen):
        chosen = asked_in
    return chosen if chosen is not None and usable(chosen) else None


class Controller:
    """One server's controller message and the task that keeps it current."""

    def __init__(self, player: GuildPlayer, channel: discord.abc.Messageable, pacer: EditPacer) -> None:
        self.player = player
        self._channel = channel
        self._pacer = pacer
        self.message: discord.Message | None = None
        self._wake = asyncio.Event()
        self._last: Track | None = None
        self._last_end: EndReason | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def done(self) -> bool:
        return self._task is not None and self._task.done()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"controller-{self.player.guild_id}")
        self._task.add_done_callback(_log_failure)

    def changed(self, event: PlayerEvent) -> None:
        if isinstance(event, TrackEnded):
            self._last_end = event.reason
        self._pacer.change()
        self._wake.set()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def _ended(self) -> bool:
        player = self.player
        return player.current is None and (not player.queue or player.voice is None)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            self._wake.clear()
            due = self._pacer.next_edit(ticking=self.player.current is not None and not self.player.is_paused)
            if self.message is None or (due is not None and due <= loop.time()):
                if not await self._show(loop.time()):
                    return
                continue
            timeout = None if due is None else due - loop.time()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)

    async def _show(self, now: float) -> bool:
        """Post or edit the message; False once there is nothing more to show."""
        if self._ended():
            if self.message is not None:
                await self._edit(embed=finished_embed(self._last, why=self._why_finished()), view=None)
            return False
        state = NowPlaying.of(self.player)
        self._last = state.track or self._last
        embed, view = now_playing_embed(state), shown_buttons(state)
        self._pacer.edited(now)
        if self.message is None:
            try:
                self.message = await self._channel.send(embed=embed, view=view, allowed_mentions=NO_MENTIONS)
            except discord.HTTPException as exc:
                log.warning("guild %s: could not post the controller: %s", self.player.guild_id, exc)
                return False
            return True
        return await self._edit(embed=embed, view=view)

    async def _edit(self, *, embed: discord.Embed, view: discord.ui.View | None) -> bool:
        assert self.message is not None
        try:
            await self.message.edit(embed=embed, view=view, allowed_mentions=NO_MENTIONS)
        except discord.NotFound:
            log.info("guild %s: the controller message was deleted", self.player.guild_id)
            return False
        except discord.HTTPException as exc:
            log.warning("guild %s: could not edit the controller: %s", self.player.guild_id, exc)
        return True

    def _why_finished(self) -> str:
        if self.player.voice is None:
            return "left the voice channel."
        if self._last_end is EndReason.STOPPED:
            return "the queue was cleared."
        return "the queue is done."


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("a controller failed", exc_info=task.exception())


class Controllers:
    """The player-event subscriber: which server has which controller."""

    def __init__(self, bot: BrentBot, pacer: Callable[[], EditPacer] = EditPacer) -> None:
        self._bot = bot
        self._pacer = pacer
        self._live: dict[int, Controller] = {}

    def of(self, guild_id: int) -> Controller | None:
        return self._live.get(guild_id)

    async def __call__(self, event: PlayerEvent) -> None:
        live = self._live.get(event.guild_id)
        if live is not None and not live.done and live.player is event.player:
            live.changed(event)
            return
        if not isinstance(event, TrackStarted) or not isinstance(event.player, GuildPlayer):
            return
        if live is not None:
            await live.close()  # a player that was replaced (the bot left the server and came back)
        channel = self._channel(event.guild_id)
        if channel is None:
            self._live.pop(event.guild_id, None)
            return
        live = self._live[event.guild_id] = Controller(event.player, channel, self._pacer())
        live.start()

    def _channel(self, guild_id: int) -> discord.abc.Messageable | None:
        def usable(channel_id: int) -> bool:
            return isinstance(self._bot.get_channel(channel_id), discord.abc.Messageable)

        settings = self._bot.guild_settings.get(guild_id)
        chosen = controller_channel_id(settings, self._bot.text_channels.get(guild_id), usable)
        channel = self._bot.get_channel(chosen) if chosen is not None else None
        return channel if isinstance(channel, discord.abc.Messageable) else None

    async def close(self) -> None:
        live, self._live = list(self._live.values()), {}
        for controller in live:
            await controller.close()
