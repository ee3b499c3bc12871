"""Playlists through the loopback Discord with the real bot and a real SQLite store.

``playlist play`` must append the saved rows to the queue as they are (no lookups up front), and
reply only once the new queue is saved; ``playlist save`` stores the queue with the current track
first. What is heard proves the order.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from bot.bot import BrentBot, create_bot
from bot.persistence import Persistence
from bot.settings import Settings
from bot.store import open_store
from tests.e2e.brent_rig import PREFIX, Member, add_music_guild
from tests.e2e.conftest import SHORT_SECONDS, SHORT_TONES
from tests.fakediscord import FakeDiscord, pointed_at, running
from tests.media import MediaServer

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]


@asynccontextmanager
async def brent_with_store(fake: FakeDiscord, tmp_path: Path) -> AsyncIterator[BrentBot]:
    database = f"sqlite:///{tmp_path / 'brent.db'}"
    settings = Settings(command_prefix=PREFIX, allow_private_network=True, data_dir=tmp_path, database_url=database)
    bot = create_bot(settings, connector=fake.connector(), guild_ready_timeout=0.1)
    bot.store = await open_store(database, tmp_path)
    persistence = Persistence(bot, bot.store)
    await bot.add_cog(persistence)
    with pointed_at(fake):
        async with running(bot):
            try:
                yield bot
            finally:
                await persistence.close()


async def test_playlist_play_appends_saved_tracks_without_lookups_and_save_keeps_the_order(
    fake_discord: FakeDiscord, e2e_media: MediaServer, tmp_path: Path
) -> None:
    guild = add_music_guild(fake_discord)
    alice = Member(fake_discord, guild, guild.member("alice"))
    recorder = fake_discord.voice_log(guild)
    async with brent_with_store(fake_discord, tmp_path) as bot:
        assert bot.store is not None
        await alice.ask("pl create set", "Created playlist")
        await alice.ask(f"pl add set {e2e_media.url('short2.mp3')}", "Added **short2**")
        await alice.ask(f"pl add set {e2e_media.url('short3.mp3')}", "Added **short3**")
        await alice.join_voice()
        first, _ = await alice.ask(f"play {e2e_media.url('short1.mp3')}", "Playing")
        short3_requests = sum(1 for r in e2e_media.requests if r.path == "/short3.mp3")
        _, reply = await alice.ask("pl play set", "Queued 2 tracks from **set**")
        # Saved before the reply, and nothing looked up: short3 is fetched only when it is near.
        saved = await bot.store.load_state(guild.id)
        assert saved is not None and [t.title for t in saved.queue][-2:] == ["short2", "short3"]
        assert sum(1 for r in e2e_media.requests if r.path == "/short3.mp3") == short3_requests
        assert all(t.requester_id == alice.user.id for t in saved.queue)

        _, saved_reply = await alice.ask("pl save whole", "Saved")
        _, whole = await bot.store.playlist_tracks(guild.id, "whole")
        assert f"Saved {len(whole)} tracks as **whole**" in saved_reply["content"]
        assert [t.title for t in whole][-2:] == ["short2", "short3"]  # the current track (if any) first
        await recorder.wait_for_audio(3 * SHORT_SECONDS - 0.1, timeout=20, after=first.sent_at)
        await recorder.wait_for_silence(timeout=10, after=first.sent_at)
    heard = [recorder.dominant_frequency(i * SHORT_SECONDS + 0.2, (i + 1) * SHORT_SECONDS - 0.2) for i in range(3)]
    assert heard == pytest.approx(list(SHORT_TONES), abs=2.0)


async def test_two_members_editing_one_playlist_at_once_both_land(
    fake_discord: FakeDiscord, e2e_media: MediaServer, tmp_path: Path
) -> None:
    guild = add_music_guild(fake_discord)
    alice = Member(fake_discord, guild, guild.member("alice"))
    async with brent_with_store(fake_discord, tmp_path) as bot:
        assert bot.store is not None
        await alice.ask("pl create shared", "Created playlist")
        started = time.perf_counter()
        sent = await asyncio.gather(
            alice.say(f"pl add shared {e2e_media.url('short1.mp3')}"),
            alice.say(f"pl add shared {e2e_media.url('short2.mp3')}"),
        )
        await fake_discord.wait_until(
            lambda: sum("Added" in m["content"] for m in fake_discord.bot_messages(guild.text_channel, after=sent[0])) >= 2,
            20, "both Added replies",
        )
        _, tracks = await bot.store.playlist_tracks(guild.id, "shared")
        assert sorted(t.title for t in tracks) == ["short1", "short2"]
        assert time.perf_counter() - started < 20
