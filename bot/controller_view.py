"""The controller's buttons: pause/resume, skip, stop, loop mode, volume down/up, shuffle.

Every button has a fixed custom id (``brent:ctl:...``). One :class:`ControllerView` (``timeout=None``)
is registered with ``bot.add_view`` at start-up and answers the presses on every controller message,
also on those a previous run of the bot posted: it finds the server's player from the interaction.
A message is sent with :func:`shown_buttons`, a stopped view that only draws the buttons, so no view
is kept per message. A press passes the bot-wide rules and then calls the very
:class:`~bot.player_controls.PlayerControls` method the command calls, so it is allowed and refused
alike; a refusal is seen only by whoever pressed. A change is answered with a deferred update (the
controller's next edit shows it); a skip vote that has not passed is told to the channel, as the
command does.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any

import discord

from bot.errors import handle_component_error
from bot.player_controls import VOLUME_STEP, Member, Outcome
from bot.track_embeds import NowPlaying

if TYPE_CHECKING:
    from bot.bot import BrentBot

PAUSE = "brent:ctl:pause"
SKIP = "brent:ctl:skip"
STOP = "brent:ctl:stop"
LOOP = "brent:ctl:loop"
VOLUME_DOWN = "brent:ctl:voldown"
VOLUME_UP = "brent:ctl:volup"
SHUFFLE = "brent:ctl:shuffle"
NO_MENTIONS = discord.AllowedMentions.none()

Action = Callable[[discord.Guild, Member], Outcome | Awaitable[Outcome]]


def _buttons(now: NowPlaying | None) -> list[discord.ui.Button[Any]]:
    paused = now is not None and now.paused
    loop = now.loop.value if now is not None else "off"
    grey, red = discord.ButtonStyle.secondary, discord.ButtonStyle.danger
    specs = [
        (PAUSE, "Resume" if paused else "Pause", discord.ButtonStyle.primary, 0),
        (SKIP, "Skip", grey, 0),
        (STOP, "Stop", red, 0),
        (LOOP, f"Loop: {loop}", grey, 0),
        (VOLUME_DOWN, f"Vol -{VOLUME_STEP}", grey, 1),
        (VOLUME_UP, f"Vol +{VOLUME_STEP}", grey, 1),
        (SHUFFLE, "Shuffle", grey, 1),
    ]
    return [discord.ui.Button(custom_id=cid, label=label, style=style, row=row) for cid, label, style, row in specs]


def shown_buttons(now: NowPlaying) -> discord.ui.View:
    """The buttons as a controller message shows them (labels follow the state); draws only."""
    view = discord.ui.View(timeout=None)
    for button in _buttons(now):
        view.add_item(button)
    view.stop()  # a finished view is not kept by discord.py; the persistent one answers
    return view


class ControllerView(discord.ui.View):
    """The one persistent view that answers every controller button."""

    def __init__(self, bot: BrentBot) -> None:
        super().__init__(timeout=None)
        self._bot = bot
        controls = bot.controls
        actions: dict[str, Action] = {
            PAUSE: controls.pause_or_resume,
            SKIP: controls.skip,
            STOP: controls.stop,
            LOOP: controls.next_loop,
            VOLUME_DOWN: lambda guild, member: controls.step_volume(guild, member, -VOLUME_STEP),
            VOLUME_UP: lambda guild, member: controls.step_volume(guild, member, VOLUME_STEP),
            SHUFFLE: controls.shuffle,
        }
        for button in _buttons(None):
            assert button.custom_id is not None
            button.callback = self._press(actions[button.custom_id])  # type: ignore[method-assign, assignment]
            self.add_item(button)

    def _press(self, action: Action) -> Callable[[discord.Interaction[Any]], Coroutine[Any, Any, None]]:
        async def pressed(interaction: discord.Interaction[Any]) -> None:
            guild = interaction.guild
            try:
                if guild is None:
                    raise discord.ClientException("a controller button outside a server")
                self._bot.check_member_here(interaction.user, guild, interaction.channel_id)
                outcome = action(guild, interaction.user)
                if inspect.isawaitable(outcome):
                    outcome = await outcome
            except Exception as error:
                await handle_component_error(interaction, error)
                return
            if outcome.changed:
                await interaction.response.defer()
            else:
                await interaction.response.send_message(outcome.text, allowed_mentions=NO_MENTIONS)

        return pressed
