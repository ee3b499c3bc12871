"""Hostile links in one server do not hold up another server's music, through the real bot.

Guild A's members paste links to a page that drips one byte every half second (no read timeout
ever trips); the per-member and per-server lookup caps refuse what is over them, and the ones let in
sit in their workers until the lookup timeout. Meanwhile a member of guild B plays a track: B's
"Playing" and B's audio must come before A's timeout replies. Everything is on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from audio.egress_proxy import ClientKind
from audio.extractor import MSG_TIMEOUT
from bot.settings import Settings
from tests.e2e.brent_rig import Member, StartBrent, ffmpeg_children, player_ffmpeg
from tests.fakediscord import FakeDiscord
from tests.media import MediaServer
from tests.media import media_server as serve_media

pytestmark = pytest.mark.e2e

EXTRACT_TIMEOUT = 6.0
GUILD_CAP = Settings().extractions_per_guild
TIMED_OUT = "took too long"
OTHER_PROXY_VARIABLES = ("HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY")


@pytest.fixture
def drip_media(e2e_media_dir: Path) -> Iterator[MediaServer]:
    """The e2e tones, plus ``/drip.mp3``: an HTML page that never ends (whatever its name says)."""
    with serve_media(e2e_media_dir, drip_paths={"/drip.mp3"}, drip_interval=0.5) as server:
        yield server


def requested(server: MediaServer, who: str) -> bool:
    return any(r.path == f"/drip.mp3?who={who}" for r in list(server.requests))


@pytest.mark.timeout(90)
async def test_stuck_lookups_in_one_guild_do_not_delay_another_guilds_play(
    start_brent: StartBrent, fake_discord: FakeDiscord, drip_media: MediaServer
) -> None:
    guild_a = fake_discord.add_guild("Guild A", voice_channels=("Music",), members=("ann", "bob", "carol"))
    guild_b = fake_discord.add_guild("Guild B", voice_channels=("Music",), members=("dave",))
    ann, bob, carol = (Member(fake_discord, guild_a, guild_a.member(name)) for name in ("ann", "bob", "carol"))
    dave = Member(fake_discord, guild_b, guild_b.member("dave"))
    heard_b = fake_discord.voice_log(guild_b)

    def drip(who: str) -> str:
        return drip_media.url(f"drip.mp3?who={who}")

    async with start_brent(extract_timeout=EXTRACT_TIMEOUT) as bot:
        await bot.extractor.warm_up()  # as main.py does at login: the workers are running before any play
        for member in (ann, bob, carol, dave):
            await member.join_voice()

        first = await ann.say(f"play {drip('ann')}")
        assert await asyncio.to_thread(drip_media.wait_for_requests, 1, 10.0)
        assert requested(drip_media, "ann")  # her lookup is inside the page now
        await ann.say(f"play {drip('ann-again')}")  # waits for her first: it holds no worker
        second = await bob.say(f"play {drip('bob')}")
        assert await asyncio.to_thread(drip_media.wait_for_request, lambda r: r.path == "/drip.mp3?who=bob", 10.0)
        standby = bot.ffmpeg_standby
        assert standby is not None and await asyncio.to_thread(standby.wait_ready, 10)
        waiting = standby.pids
        _, full = await carol.ask(f"play {drip('carol')}", "This server already has")
        assert standby.pids == waiting  # a lookup refused at the cap opened nothing ahead
        assert f"already has {GUILD_CAP} lookups running" in full["content"]

        # Guild A now holds GUILD_CAP workers, each stuck in a page that will not end.
        played, playing = await dave.ask(f"play {drip_media.url('short1.mp3')}", "Playing", timeout=EXTRACT_TIMEOUT)
        await heard_b.wait_for_audio(0.5, timeout=EXTRACT_TIMEOUT, after=played.sent_at)
        first_sound = heard_b.first_audio_after(played.sent_at)
        assert first_sound is not None
        assert not requested(drip_media, "ann-again")  # still waiting behind her first

        timed_out = await fake_discord.wait_for_message(guild_a.text_channel, TIMED_OUT, EXTRACT_TIMEOUT + 10, after=first)
        timed_out_too = await fake_discord.wait_for_message(
            guild_a.text_channel, TIMED_OUT, EXTRACT_TIMEOUT + 10, after=int(timed_out["id"])
        )
        a_replies = [fake_discord.message_time(m) for m in (timed_out, timed_out_too)]

    assert timed_out["content"] == timed_out_too["content"] == MSG_TIMEOUT
    # Guild A's lookups really were stuck: they answered only at the timeout ...
    assert min(a_replies) >= first.sent_at + EXTRACT_TIMEOUT - 0.1
    assert max(a_replies) >= second.sent_at + EXTRACT_TIMEOUT - 0.1
    # ... and guild B was answered and heard before either of them.
    assert fake_discord.message_time(playing) < min(a_replies)
    assert first_sound.arrival < min(a_replies)
    assert not requested(drip_media, "carol")  # refused up front
    assert not [m for m in fake_discord.bot_messages(guild_a.text_channel) if "Playing" in m["content"]]


def read_environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    pairs = (entry.partition(b"=") for entry in raw.split(b"\0") if entry)
    return {name.decode(errors="replace"): value.decode(errors="replace") for name, _, value in pairs}


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="no /proc: another process's environment is unreadable")
async def test_the_ffmpeg_playing_a_track_fetches_through_the_bots_egress_proxy(
    start_brent: StartBrent, alice: Member, e2e_media: MediaServer, fake_discord: FakeDiscord
) -> None:
    recorder = fake_discord.voice_log(alice.guild)
    async with start_brent() as bot:
        await alice.join_voice()
        started, _ = await alice.ask(f"play {e2e_media.url('tone880.mp3')}", "Playing")
        await recorder.wait_for_audio(0.3, after=started.sent_at)
        playing = player_ffmpeg(bot)
        everyone = ffmpeg_children()  # the player's and any standby waiting for the next track
        expected = bot.extractor.egress.url(ClientKind.MEDIA)
        environments = {process.pid: read_environ(process.pid) for process in everyone}
    assert playing, "no ffmpeg is playing the track"
    for pid, env in environments.items():
        assert env.get("http_proxy") == expected, f"ffmpeg pid {pid} is not pointed at the egress proxy"
        assert [name for name in OTHER_PROXY_VARIABLES if name in env] == []  # nothing routes around it
