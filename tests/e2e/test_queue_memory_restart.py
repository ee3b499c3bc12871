"""After a restart: the guild's queue mode, its saved queue in the saved order, the undo step and the
history (also in `play` suggestions) are all back (in-process bot on a saved database, against the loopback Discord)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from audio.queue_order import QueueMode
from bot.store import GuildState, UndoStep, open_store
from tests.e2e.brent_rig import Member, add_music_guild
from tests.e2e.test_restart import media, media_track, restart_media, restored_bot  # noqa: F401 (fixtures)
from tests.fakediscord import FakeDiscord, message_text, wait_for_bot
from tests.fakediscord.interactions import SlashMembers
from tests.media import MediaServer

pytestmark = pytest.mark.e2e


async def test_mode_queue_order_undo_and_history_survive_a_restart(
    fake_discord: FakeDiscord, media: MediaServer, tmp_path: Path  # noqa: F811
) -> None:
    guild = add_music_guild(fake_discord, "Remembering Guild")
    alice = Member(fake_discord, guild, guild.member("alice"))
    bob_id = guild.member("bob").id
    await alice.join_voice()
    clock = dataclasses.replace(media_track(media, "clock60", 60.0), requester_id=alice.user.id)
    mine = dataclasses.replace(media_track(media, "next500", 1.5), requester_id=alice.user.id)
    bobs = dataclasses.replace(mine, title="bob's", requester_id=bob_id)
    # Not the order fair mode would pick (a DJ moved alice's track ahead): it must come back as saved.
    saved_queue = (mine, bobs)
    database = f"sqlite:///{tmp_path / 'brent.db'}"
    store = await open_store(database, tmp_path)
    await store.save_state(GuildState(guild.id, voice_channel_id=guild.voice_channel.id, current=clock,
                                      queue=saved_queue, position=5.0))
    await store.set_guild_setting(guild.id, "queuemode", "fair")
    await store.save_undo(guild.id, UndoStep("clear", (bobs, bobs), (), member_id=alice.user.id))
    earlier = dataclasses.replace(media_track(media, "tone440", 3.0), title="an earlier evening")
    await store.add_history(guild.id, earlier, keep=200)
    await store.add_history(guild.id, mine, keep=200)
    await store.close()

    async with restored_bot(fake_discord, database, tmp_path) as (bot, persistence, _):
        player = bot.players[guild.id]
        await wait_for_bot(lambda: player.current is not None and player.position is not None, 20, "the resume")
        assert player.queue.mode is QueueMode.FAIR
        assert list(player.queue) == list(saved_queue)
        _, listing = await alice.ask("queue", "Mode: fair")
        assert "Next turn: alice, then bob" in message_text(listing)
        await alice.ask("undo", "Undid the clear: 4 tracks")  # tracks queued since the clear stay
        assert list(player.queue) == [bobs, bobs, mine, bobs]
        await alice.ask("history", "Played here (2)")
        # `play` suggests from the history too (read once from the store), not only from this run.
        choices = await SlashMembers(fake_discord).autocomplete(guild, alice.user, "play", "query", "evening")
        assert [c["value"] for c in choices] == [earlier.page_url]
        await persistence.close()
