"""Two members through the loopback Discord: the fair queue mode, remove @member and undo."""

from __future__ import annotations

import pytest

from tests.e2e.brent_rig import Member, StartBrent
from tests.e2e.conftest import SHORT_SECONDS
from tests.fakediscord import FakeDiscord, message_text, wait_for_bot
from tests.media import MediaServer

pytestmark = pytest.mark.e2e


async def test_fair_mode_lets_bob_in_before_alices_burst_and_undo_brings_a_clear_back(
    start_brent: StartBrent, alice: Member, e2e_media: MediaServer, fake_discord: FakeDiscord
) -> None:
    bob = Member(fake_discord, alice.guild, alice.guild.member("bob"))
    recorder = fake_discord.voice_log(alice.guild)
    async with start_brent() as bot:
        await alice.join_voice()
        await bob.join_voice()
        await bob.ask("queuemode fair", "DJ")  # bob has no DJ role: refused, nothing changes
        await alice.ask("queuemode fair", "Queue mode: fair")
        await alice.ask(f"play {e2e_media.url('tone880.mp3')}", "Playing")
        await alice.ask(f"play {e2e_media.url('short2.mp3')}", "#1")
        await alice.ask(f"play {e2e_media.url('short3.mp3')}", "#2")
        _, bobs = await bob.ask(f"play {e2e_media.url('tone660.mp3')}", "Queued")
        assert "#1" in message_text(bobs)  # alice just had her turn: bob goes first
        _, listing = await bob.ask("queue", "Next turn")
        assert message_text(listing).index("tone660") < message_text(listing).index("short2")
        assert "Next turn: bob, then alice" in message_text(listing)

        await alice.ask("clear", "Cleared 3 tracks")
        await bob.ask("undo", "DJ")  # alice's change: bob may not undo it
        assert len(bot.players[alice.guild.id].queue) == 0
        await alice.ask("undo", "Undid the clear: 3 tracks")
        queue = bot.players[alice.guild.id].queue
        assert [t.title for t in queue] == ["tone660", "short2", "short3"]
        await alice.ask("undo", "There is nothing to undo.")

        skipped, _ = await alice.ask("skip", "Skipped")
        await recorder.wait_for_audio(3 + 2 * SHORT_SECONDS - 0.2, timeout=30, after=skipped.sent_at)
    after = skipped.sent_at
    heard = [
        recorder.dominant_frequency(start + 0.3, end - 0.3, after=after)
        for start, end in ((0, 3), (3, 3 + SHORT_SECONDS), (3 + SHORT_SECONDS, 3 + 2 * SHORT_SECONDS))
    ]
    assert heard == pytest.approx([660, 600, 700], abs=2.0)


async def test_remove_member_takes_only_that_members_tracks_and_undo_puts_them_back(
    start_brent: StartBrent, alice: Member, e2e_media: MediaServer, fake_discord: FakeDiscord
) -> None:
    bob = Member(fake_discord, alice.guild, alice.guild.member("bob"))
    async with start_brent() as bot:
        await alice.join_voice()
        await bob.join_voice()
        await alice.ask(f"play {e2e_media.url('tone880.mp3')}", "Playing")
        await bob.ask(f"play {e2e_media.url('short1.mp3')}", "#1")
        await alice.ask(f"play {e2e_media.url('short2.mp3')}", "#2")
        await bob.ask(f"play {e2e_media.url('short3.mp3')}", "#3")
        await bob.ask(f"remove <@{alice.user.id}>", "DJ")  # not his tracks, no DJ role
        await bob.ask(f"remove <@{bob.user.id}>", "Removed 2 tracks of bob")
        queue = bot.players[alice.guild.id].queue
        assert [t.title for t in queue] == ["short2"]
        await bob.ask("undo", "Undid the remove: 3 tracks")
        assert [t.title for t in queue] == ["short1", "short2", "short3"]


async def test_playnext_skipto_previous_replay_dedupe_and_history(
    start_brent: StartBrent, alice: Member, e2e_media: MediaServer, fake_discord: FakeDiscord
) -> None:
    recorder = fake_discord.voice_log(alice.guild)
    async with start_brent() as bot:
        await alice.join_voice()
        await alice.ask(f"play {e2e_media.url('tone880.mp3')}", "Playing")
        player = bot.players[alice.guild.id]
        await alice.ask(f"play {e2e_media.url('short1.mp3')}", "#1")
        await alice.ask(f"play {e2e_media.url('short2.mp3')}", "#2")
        await alice.ask(f"playnext {e2e_media.url('short3.mp3')}", "Queued **short3** (0:01) at #1")
        assert [t.title for t in player.queue] == ["short3", "short1", "short2"]
        await alice.ask("skipto 5", "There is no track #5")
        jumped, _ = await alice.ask("skipto 2", "Skipped to **short1**")
        await wait_for_bot(lambda: player.current is not None and player.current.title == "short1", 10, "short1")
        assert [t.title for t in player.queue] == ["short2"]
        await recorder.wait_for_audio(0.5, after=jumped.sent_at)
        back, _ = await alice.ask("previous", "Back to **tone880**")
        await wait_for_bot(lambda: player.current is not None and player.current.title == "tone880", 10, "tone880")
        await recorder.wait_for_audio(1.0, after=back.sent_at)
        assert recorder.dominant_frequency(0.5, 1.0, after=back.sent_at) == pytest.approx(880, abs=2.0)
        await alice.ask("replay", "Replaying **tone880**")
        await alice.ask(f"play {e2e_media.url('short2.mp3')}", "#2")
        await alice.ask("dedupe", "Removed 1 repeated tracks")
        assert [t.title for t in player.queue] == ["short2"]
        _, history = await alice.ask("history", "Played here (2)")  # newest first; tone880 still plays
        lines = message_text(history).splitlines()
        assert ["short1" in lines[1], "tone880" in lines[2]] == [True, True]
        await alice.ask("history 2", "There is no page 2")
