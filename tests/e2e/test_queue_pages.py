"""The queue listing's page buttons through the loopback Discord: each press updates the same
message to the page it names, as the queue is at that moment."""

from __future__ import annotations

import pytest

from audio.track import Provider, Track
from tests.e2e.brent_rig import Member, StartBrent
from tests.e2e.controller_rig import buttons, embed, now
from tests.fakediscord import FakeDiscord
from tests.fakediscord.interactions import SlashMembers
from tests.media import MediaServer

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]


async def test_queue_pages_turn_with_the_buttons(
    start_brent: StartBrent, alice: Member, e2e_media: MediaServer, fake_discord: FakeDiscord
) -> None:
    slash = SlashMembers(fake_discord)
    async with start_brent() as bot:
        await alice.join_voice()
        await alice.ask(f"play {e2e_media.url('tone880.mp3')}", "Playing")
        player = bot.players[alice.guild.id]
        queued = [
            Track(f"queued {n}", e2e_media.url("short1.mp3"), 1.5, None, None, Provider.DIRECT, alice.user.id)
            for n in range(1, 13)
        ]
        player.enqueue(queued)

        _, listing = await alice.ask("queue", "page 1/2")
        assert "`1.` **queued 1**" in embed(listing)["description"]
        first = buttons(listing)
        prev_id, next_id = sorted(first)  # brent:queue:0:prev, brent:queue:2:next
        assert first[prev_id].get("disabled") and not first[next_id].get("disabled")

        pressed = await slash.click(alice.guild, alice.user, listing, next_id)
        answer = await slash.wait_for_answer(pressed, "page 2/2")
        assert answer["type"] == 7 and answer["message"]["id"] == listing["id"]  # updated in place
        page_two = now(fake_discord, listing)
        assert "`11.` **queued 11**" in embed(page_two)["description"]
        assert "queued 1**" not in embed(page_two)["description"]
        turned = buttons(page_two)
        assert not turned[sorted(turned)[0]].get("disabled") and turned[sorted(turned)[1]].get("disabled")

        player.queue.remove(12)
        player.queue.remove(11)  # ten left: one page; the press shows what there is now
        pressed = await slash.click(alice.guild, alice.user, page_two, sorted(turned)[0])
        await slash.wait_for_answer(pressed, "page 1/1")
        assert buttons(now(fake_discord, listing)) == {}
