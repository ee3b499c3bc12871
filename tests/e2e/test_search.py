"""`search`: results listed, the member picks by typing a number, `cancel` or silence changes nothing.

Search words would go to YouTube, which tests never reach; a direct link goes through the same
search path (yt-dlp answers with its one track), so the pick flow is exercised for real.
"""

from __future__ import annotations

import pytest

from tests.e2e.brent_rig import Member, StartBrent
from tests.fakediscord import FakeDiscord, message_text
from tests.media import MediaServer

pytestmark = pytest.mark.e2e


async def type_plain(member: Member, text: str):  # noqa: ANN201
    """A chat line without the command prefix, as a member answers the result list."""
    return await member.fake.inject_message(member.guild, member.guild.text_channel, member.user, text)


async def test_typing_a_number_plays_that_result(
    start_brent: StartBrent, alice: Member, e2e_media: MediaServer, fake_discord: FakeDiscord
) -> None:
    bob = Member(fake_discord, alice.guild, alice.guild.member("bob"))
    recorder = fake_discord.voice_log(alice.guild)
    async with start_brent() as bot:
        await alice.join_voice()
        _, listing = await alice.ask(f"search {e2e_media.url('tone660.mp3')}", "Reply with 1-1")
        assert "`1.`" in message_text(listing) and "tone660" in message_text(listing)
        await type_plain(bob, "1")  # only the member who searched may pick: this is ignored...
        cancel = await type_plain(alice, "cancel")  # ...so alice's cancel is what ends the search
        await fake_discord.wait_for_message(alice.guild.text_channel, "Search cancelled.", 10, after=cancel)
        assert bot.players.get(alice.guild.id) is None or bot.players[alice.guild.id].current is None

        await alice.ask(f"search {e2e_media.url('tone660.mp3')}", "Reply with 1-1")
        picked = await type_plain(alice, "1")
        reply = await fake_discord.wait_for_message(alice.guild.text_channel, "Playing", 15, after=picked)
        assert "tone660" in reply["content"]
        await recorder.wait_for_audio(1.0, after=picked.sent_at)
        assert recorder.dominant_frequency() == pytest.approx(660, abs=2)
        assert bot.players[alice.guild.id].current is not None


async def test_cancel_and_timeout_leave_the_queue_unchanged(
    start_brent: StartBrent, alice: Member, e2e_media: MediaServer, fake_discord: FakeDiscord
) -> None:
    async with start_brent() as bot:
        bot.get_cog("Search").pick_timeout = 1.0  # type: ignore[union-attr]
        await alice.join_voice()
        await alice.ask(f"search {e2e_media.url('tone660.mp3')}", "Reply with 1-1")
        cancel = await type_plain(alice, "cancel")
        await fake_discord.wait_for_message(alice.guild.text_channel, "Search cancelled.", 10, after=cancel)
        sent, _ = await alice.ask(f"search {e2e_media.url('tone660.mp3')}", "Reply with 1-1")
        await fake_discord.wait_for_message(alice.guild.text_channel, "Search timed out.", 10, after=sent)
        player = bot.players.get(alice.guild.id)
        assert player is None or (player.current is None and len(player.queue) == 0)
    assert fake_discord.voice_log(alice.guild).audio_packets() == []
