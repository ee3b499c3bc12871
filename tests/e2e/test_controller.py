"""The now-playing controller through the loopback Discord: one message per session with the track's
fields, buttons that act (and refuse) exactly as their commands, edits instead of new posts, paced
edits, and a last edit when the music ends."""

from __future__ import annotations

import pytest

from bot.edit_pacer import MIN_GAP
from tests.e2e.brent_rig import Member, StartBrent
from tests.e2e.controller_rig import (
    PAUSE,
    SKIP,
    STOP,
    VOLUME_UP,
    buttons,
    controller_posts,
    controllers,
    edits,
    embed,
    field,
    is_controller,
    now,
    wait_for_edit,
)
from tests.fakediscord import FakeDiscord, wait_for_bot
from tests.fakediscord.interactions import SlashMembers
from tests.media import MediaServer

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]


async def test_a_track_start_posts_one_controller_and_pause_edits_it(
    start_brent: StartBrent, alice: Member, e2e_media: MediaServer, fake_discord: FakeDiscord
) -> None:
    slash = SlashMembers(fake_discord)
    channel = alice.guild.text_channel
    recorder = fake_discord.voice_log(alice.guild)
    async with start_brent() as bot:
        await alice.join_voice()
        played, _ = await alice.ask(f"play {e2e_media.url('tone880.mp3')}", "Playing")
        panel = await fake_discord.wait_for_message(channel, is_controller, after=played)
        shown = embed(panel)
        assert shown["title"] == "tone880" and shown["url"] == e2e_media.url("tone880.mp3")
        # A direct file starts before it is measured; its length comes with an edit.
        panel = await wait_for_edit(fake_discord, panel, lambda m: field(m, "Length") == "0:10", "the length")
        assert field(panel, "Asked by") == f"<@{alice.user.id}>"
        assert "/ 0:10" in field(panel, "Position")
        assert field(panel, "Next") == "Nothing after this one."
        assert buttons(panel)[PAUSE]["label"] == "Pause"
        await recorder.wait_for_audio(0.5, after=played.sent_at)

        pressed = await slash.click(alice.guild, alice.user, panel, PAUSE)
        answer = await slash.wait_for_answer(pressed, lambda a: True)
        assert answer["type"] == 6 and answer["message"] is None  # a deferred update: no new message
        await recorder.wait_for_silence(after=pressed.sent_at)
        assert bot.players[alice.guild.id].is_paused
        paused = await wait_for_edit(
            fake_discord, panel, lambda m: buttons(m)[PAUSE]["label"] == "Resume", "the controller to show Resume"
        )
        assert "paused" in field(paused, "Position")

        resumed = await slash.click(alice.guild, alice.user, panel, PAUSE)
        await slash.wait_for_answer(resumed, lambda a: a["type"] == 6)
        await recorder.wait_for_audio(0.5, after=resumed.sent_at)
        await wait_for_edit(fake_discord, panel, lambda m: buttons(m)[PAUSE]["label"] == "Pause", "Pause again")

        assert [m["id"] for m in controllers(fake_discord, channel)] == [panel["id"]]
        assert controller_posts(fake_discord, channel) == 1  # edited, never posted again


async def test_a_non_dj_skip_is_a_vote_and_refusals_match_the_commands(
    start_brent: StartBrent, alice: Member, e2e_media: MediaServer, fake_discord: FakeDiscord
) -> None:
    slash = SlashMembers(fake_discord)
    bob = Member(fake_discord, alice.guild, alice.guild.member("bob"))
    channel = alice.guild.text_channel
    async with start_brent() as bot:
        await alice.join_voice()
        played, _ = await alice.ask(f"play {e2e_media.url('tone880.mp3')}", "Playing")
        panel = await fake_discord.wait_for_message(channel, is_controller, after=played)

        # Not in voice: the same refusal as the command, seen by bob only, and nothing changes.
        _, said = await bob.ask("pause", "Join a voice channel first")
        pressed = await slash.click(bob.guild, bob.user, panel, PAUSE)
        refusal = await slash.wait_for_answer(pressed, "Join a voice channel first")
        assert refusal["ephemeral"] and refusal["message"]["content"] == said["content"]
        assert not bot.players[alice.guild.id].is_paused

        # In voice without the DJ role: stop is refused as `stop` is.
        await bob.join_voice()
        _, said = await bob.ask("stop", "Only members with")
        pressed = await slash.click(bob.guild, bob.user, panel, STOP)
        refusal = await slash.wait_for_answer(pressed, "Only members with")
        assert refusal["ephemeral"] and refusal["message"]["content"] == said["content"]

        # Skip by a non-DJ with another listener: a vote, told to the channel like the command's.
        pressed = await slash.click(bob.guild, bob.user, panel, SKIP)
        vote = await slash.wait_for_answer(pressed, "Vote to skip")
        assert not vote["ephemeral"] and "1/2" in vote["message"]["content"]
        assert bot.players[alice.guild.id].current is not None
        _, said = await bob.ask("skip", "Vote to skip")  # the command sees the button's vote
        assert "1/2" in said["content"]  # bob again: still one vote
        pressed = await slash.click(alice.guild, alice.user, panel, SKIP)  # the DJ skips at once
        await slash.wait_for_answer(pressed, lambda a: a["type"] == 6)
        await wait_for_bot(lambda: bot.players[alice.guild.id].current is None, 10, "the skip")
        await wait_for_edit(fake_discord, panel, lambda m: not buttons(m), "the controller's last edit")
        assert "Finished: the queue is done." in embed(now(fake_discord, panel))["description"]


async def test_the_end_of_the_queue_edits_the_controller_once_more_and_a_new_session_posts_again(
    start_brent: StartBrent, alice: Member, e2e_media: MediaServer, fake_discord: FakeDiscord
) -> None:
    slash = SlashMembers(fake_discord)
    channel = alice.guild.text_channel
    async with start_brent():
        await alice.join_voice()
        played, _ = await alice.ask(f"play {e2e_media.url('short1.mp3')}", "Playing")
        await alice.ask(f"play {e2e_media.url('short2.mp3')}", "#1")
        panel = await fake_discord.wait_for_message(channel, is_controller, after=played)
        final = await wait_for_edit(
            fake_discord, panel, lambda m: not buttons(m), "the controller's last edit", timeout=15
        )
        assert embed(final)["title"] == "short2"  # the last track it showed, and why nothing follows
        assert embed(final)["description"] == "Finished: the queue is done."
        assert controller_posts(fake_discord, channel) == 1  # two tracks, one controller

        again, _ = await alice.ask(f"play {e2e_media.url('tone880.mp3')}", "Playing")
        second = await fake_discord.wait_for_message(channel, lambda m: PAUSE in buttons(m), after=again)
        assert second["id"] != panel["id"]
        pressed = await slash.click(alice.guild, alice.user, second, STOP)
        await slash.wait_for_answer(pressed, lambda a: a["type"] == 6)
        stopped = await wait_for_edit(fake_discord, second, lambda m: not buttons(m), "the stop's last edit")
        assert "Finished: the queue was cleared." in embed(stopped)["description"]


async def test_presses_in_a_burst_become_paced_edits(
    start_brent: StartBrent, alice: Member, e2e_media: MediaServer, fake_discord: FakeDiscord
) -> None:
    slash = SlashMembers(fake_discord)
    channel = alice.guild.text_channel
    async with start_brent() as bot:
        await alice.join_voice()
        played, _ = await alice.ask(f"play {e2e_media.url('tone880.mp3')}", "Playing")
        panel = await fake_discord.wait_for_message(channel, is_controller, after=played)
        for _ in range(5):
            pressed = await slash.click(alice.guild, alice.user, panel, VOLUME_UP)
            await slash.wait_for_answer(pressed, lambda a: a["type"] == 6)
        assert bot.players[alice.guild.id].volume == 150
        await wait_for_edit(fake_discord, panel, lambda m: field(m, "Volume") == "150%", "the volume on the controller")
        made = edits(fake_discord, panel)
        assert 1 <= len(made) <= 3, made  # five changes, coalesced
        gaps = [b - a for a, b in zip(made, made[1:], strict=False)]
        assert all(gap >= MIN_GAP - 0.05 for gap in gaps), gaps
