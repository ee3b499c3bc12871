"""The queue listing as an embed, one page at a time, with buttons to the page before and after.

A page button carries the page it leads to in its custom id (``brent:queue:<page>:<side>``), so
one registered :class:`QueuePageButton` class answers every listing, also after a restart, and no
view is kept per message. A press shows that page of the queue as it is then (a shorter queue ends
on its last page) by updating the message in place.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord

from bot.errors import handle_component_error
from bot.queue_listing import turn_line
from bot.track_embeds import queue_embed

if TYPE_CHECKING:
    from bot.bot import BrentBot

PAGE_SIZE = 10


def queue_page(bot: BrentBot, guild_id: int, page: int, *, clamp: bool = False) -> tuple[discord.Embed, discord.ui.View]:
    """Page ``page`` of the guild's queue and its buttons (none for a single page).

    ``clamp``: a page past the end shows the last one (a button pressed after the queue shrank);
    without it :meth:`TrackQueue.page` refuses it, naming the pages there are.
    """
    view = discord.ui.View(timeout=None)
    view.stop()  # draws only: the registered QueuePageButton class answers presses
    player = bot.players.get(guild_id)
    current = player.current if player is not None else None
    if player is None or len(player.queue) == 0:
        return queue_embed(current, None, 0.0), view
    if clamp:
        page = min(max(page, 1), -(-len(player.queue) // PAGE_SIZE))
    listing = player.queue.page(page, PAGE_SIZE)
    total = sum(t.duration or 0.0 for t in player.queue)
    guild = bot.get_guild(guild_id)
    embed = queue_embed(current, listing, total, turn_line(guild, player.queue) if guild is not None else None)
    if listing.pages > 1:
        view.add_item(QueuePageButton(listing.number - 1, "prev", disabled=listing.number == 1))
        view.add_item(QueuePageButton(listing.number + 1, "next", disabled=listing.number == listing.pages))
    return embed, view


class QueuePageButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"brent:queue:(?P<page>[0-9]{1,6}):(?P<side>prev|next)"):
    def __init__(self, page: int, side: str, *, disabled: bool = False) -> None:
        label = "Previous page" if side == "prev" else "Next page"
        super().__init__(
            discord.ui.Button(
                label=label, custom_id=f"brent:queue:{max(page, 0)}:{side}", disabled=disabled,
                style=discord.ButtonStyle.secondary,
            )
        )
        self.page = page

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> QueuePageButton:
        return cls(int(match["page"]), match["side"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        bot: BrentBot = interaction.client
        guild = interaction.guild
        try:
            if guild is None:
                raise discord.ClientException("a queue button outside a server")
            bot.check_member_here(interaction.user, guild, interaction.channel_id)
        except Exception as error:
            await handle_component_error(interaction, error)
            return
        embed, view = queue_page(bot, guild.id, self.page, clamp=True)
        await interaction.response.edit_message(embed=embed, view=view)
