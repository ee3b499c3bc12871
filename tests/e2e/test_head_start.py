"""A pasted audio file link is opened while yt-dlp still looks it up, and only when it will play at once."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator

import pytest

from tests.e2e.brent_rig import Member, StartBrent
from tests.fakediscord import FakeDiscord
from tests.media import MediaServer, RecordedRequest

pytestmark = pytest.mark.e2e

YTDLP_AGENT = "Mozilla/"  # yt-dlp's browser User-Agent; ffmpeg's is "Lavf/..."


@pytest.fixture
def lookups_held(e2e_media: MediaServer) -> Iterator[threading.Event]:
    """yt-dlp's requests wait until the event is set; ffmpeg's are answered at once."""
    released = threading.Event()
    e2e_media.held_agents[YTDLP_AGENT] = released
    try:
        yield released
    finally:
        released.set()
        e2e_media.held_agents.pop(YTDLP_AGENT, None)


def agent(request: RecordedRequest) -> str:
    return next((value for name, value in request.headers.items() if name.lower() == "user-agent"), "")


def ffmpeg_asked_for(path: str) -> Callable[[RecordedRequest], bool]:
    def matches(request: RecordedRequest) -> bool:
        return request.path.split("?")[0] == path and agent(request).startswith("Lavf/")

    return matches


async def test_a_pasted_file_is_opened_while_its_lookup_waits_and_is_heard(
    start_brent: StartBrent, alice: Member, e2e_media: MediaServer, fake_discord: FakeDiscord,
    lookups_held: threading.Event,
) -> None:
    recorder = fake_discord.voice_log(alice.guild)
    async with start_brent():
        await alice.join_voice()
        await alice.ask(f"join {alice.guild.voice_channel.id}", "Joined")
        sent = await alice.say(f"play {e2e_media.url('tone440.mp3')}")
        assert await asyncio.to_thread(e2e_media.wait_for_request, lambda r: YTDLP_AGENT in agent(r))
        # The lookup is held at the server, and ffmpeg asks for the file all the same.
        assert await asyncio.to_thread(e2e_media.wait_for_request, ffmpeg_asked_for("/tone440.mp3"))
        lookups_held.set()
        await fake_discord.wait_for_message(alice.guild.text_channel, "Playing", 15, after=sent)
        await recorder.wait_for_audio(2.0, timeout=15, after=sent.sent_at)
    assert recorder.errors == []
    assert recorder.dominant_frequency() == pytest.approx(440, abs=1.0)
    assert recorder.sequence_breaks() == []
    ffmpeg_gets = [r for r in e2e_media.requests if ffmpeg_asked_for("/tone440.mp3")(r)]
    assert len(ffmpeg_gets) == 1  # one early open; a normal start would send the stream's browser User-Agent


async def test_a_file_that_will_wait_in_the_queue_is_not_opened_early(
    start_brent: StartBrent, alice: Member, e2e_media: MediaServer
) -> None:
    async with start_brent() as bot:
        await alice.play_and_hear(e2e_media.url("tone880.mp3"), 0.5)
        standby = bot.ffmpeg_standby
        assert standby is not None and await asyncio.to_thread(standby.wait_ready, 10)
        waiting = standby.pids
        await alice.ask(f"play {e2e_media.url('tone660.mp3')}", "#1")
        assert standby.pids == waiting  # the waiting process was not given the queued link


async def test_a_link_that_is_not_a_file_is_not_opened_early(
    start_brent: StartBrent, alice: Member, e2e_media: MediaServer
) -> None:
    async with start_brent() as bot:
        await alice.join_voice()
        standby = bot.ffmpeg_standby
        assert standby is not None and await asyncio.to_thread(standby.wait_ready, 10)
        waiting = standby.pids
        await alice.ask(f"play {e2e_media.url('page.html')}", "")
        assert standby.pids == waiting
