"""A stream without an end is stopped at its cap, said so once, and the queue goes on.

The endless track is an internet-radio-like link on 127.0.0.1: audio/mpeg with no length, sent
until the listener hangs up, so ffprobe cannot measure it and the bot plays it as a track of
unknown length (MAX_TRACK_DURATION). yt-dlp marks streams live only for streaming sites, which
are out of reach offline; the live case marks the radio's stream live where the extractor hands
it to the player (MAX_LIVE_DURATION). Everything else is the real bot, ffmpeg and the fake Discord.
"""

from __future__ import annotations

import dataclasses
import http.server
import socketserver
import subprocess
import threading
from collections.abc import Iterator

import pytest

from audio.track import Stream, Track
from bot.bot import BrentBot
from tests.e2e.brent_rig import Member, StartBrent
from tests.e2e.conftest import SHORT_SECONDS, SHORT_TONES
from tests.fakediscord import FakeDiscord, wait_for_bot
from tests.fakediscord.model import message_text
from tests.fakediscord.recorder import VoiceRecorder
from tests.media import FFMPEG, MediaServer

pytestmark = pytest.mark.e2e

RADIO_HZ = 320
CAP = 2.0  # seconds; whole, so the announcement reads 0:02
FRAME_SECONDS = 0.02


class EndlessRadio:
    """``/radio.mp3`` on 127.0.0.1: one mp3 chunk sent over and over with no Content-Length."""

    def __init__(self, chunk: bytes) -> None:
        self._chunk = chunk
        self._stopped = threading.Event()
        self.requests: list[str] = []
        radio = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                return None

            def do_HEAD(self) -> None:  # noqa: N802
                radio._answer(self, body=False)

            def do_GET(self) -> None:  # noqa: N802
                radio._answer(self, body=True)

        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True
            allow_reuse_address = True
            block_on_close = False

            def handle_error(self, request: object, client_address: object) -> None:
                return None  # listeners hang up mid-chunk all the time

        self._server = Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/radio.mp3"

    def _answer(self, handler: http.server.BaseHTTPRequestHandler, *, body: bool) -> None:
        self.requests.append(handler.command)
        if handler.path.split("?", 1)[0] != "/radio.mp3":
            handler.send_error(404)
            return
        handler.send_response(200)
        handler.send_header("Content-Type", "audio/mpeg")
        handler.send_header("Connection", "close")  # HTTP/1.0: the body ends when the connection does
        handler.end_headers()
        if not body:
            return
        try:
            while not self._stopped.is_set():
                handler.wfile.write(self._chunk)  # blocks while the listener is not reading
        except (BrokenPipeError, ConnectionResetError):
            pass

    def __enter__(self) -> EndlessRadio:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopped.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@pytest.fixture(scope="module")
def radio_chunk(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """4 s of a RADIO_HZ tone as bare mp3 frames (no ID3 tag, no Xing header), so copies join up."""
    path = tmp_path_factory.mktemp("radio") / "chunk.mp3"
    subprocess.run(
        [
            FFMPEG, "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", f"sine=frequency={RADIO_HZ}:sample_rate=48000:duration=4",
            "-ac", "2", "-ar", "48000", "-id3v2_version", "0", "-write_xing", "0", "-f", "mp3", str(path),
        ],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return path.read_bytes()


@pytest.fixture
def radio(radio_chunk: bytes) -> Iterator[EndlessRadio]:
    with EndlessRadio(radio_chunk) as server:
        yield server


def first_stretch_seconds(recorder: VoiceRecorder) -> float:
    """Seconds of sound from the first audio packet up to the first silence frame (the end of that play)."""
    packets = recorder.packets
    start = next(i for i, p in enumerate(packets) if not p.silence)
    end = next((i for i in range(start, len(packets)) if packets[i].silence), len(packets))
    return (end - start) * FRAME_SECONDS


def mark_streams_live(bot: BrentBot, monkeypatch: pytest.MonkeyPatch, page_url: str) -> None:
    """What yt-dlp says of a streaming site's live stream: its stream is live (and has no length)."""
    fetch = bot.extractor.stream

    async def stream(track: Track) -> Stream:
        got = await fetch(track)
        return dataclasses.replace(got, is_live=True) if track.page_url == page_url else got

    monkeypatch.setattr(bot.extractor, "stream", stream)


@pytest.mark.parametrize("live", [False, True], ids=["unknown-length", "live"])
async def test_an_endless_track_stops_at_its_cap_says_so_once_and_the_queue_goes_on(
    start_brent: StartBrent,
    alice: Member,
    e2e_media: MediaServer,
    fake_discord: FakeDiscord,
    radio: EndlessRadio,
    monkeypatch: pytest.MonkeyPatch,
    live: bool,
) -> None:
    recorder = fake_discord.voice_log(alice.guild)
    channel = alice.guild.text_channel
    # The cap for this kind of track is CAP; the other one would have stopped it sooner (unknown
    # length) or not at all in this test (live), so the stretch heard tells which cap applied.
    if live:
        caps = {"max_live_duration": CAP, "max_track_duration": 60.0}
    else:
        caps = {"max_live_duration": 1.0, "max_track_duration": CAP}
    async with start_brent(**caps) as bot:
        if live:
            mark_streams_live(bot, monkeypatch, radio.url)
        await alice.join_voice()
        sent, reply = await alice.ask(f"play {radio.url}", "Playing")
        assert "(length unknown)" in reply["content"]  # no length known when it was queued
        await alice.ask(f"play {e2e_media.url('short1.mp3')}", "#1")
        notice = await fake_discord.wait_for_message(channel, "Stopped", timeout=30, after=sent)
        # The next track plays to its end after the stream was stopped.
        await recorder.wait_for_audio(CAP + SHORT_SECONDS - 0.1, timeout=30, after=sent.sent_at)
        await recorder.wait_for_silence(timeout=15, after=fake_discord.message_time(notice))
        player = bot.players[alice.guild.id]
        await wait_for_bot(lambda: player.current is None, timeout=10, what="the queue to run out")
        assert len(player.queue) == 0  # the capped stream was not queued again
        stopped = [m for m in fake_discord.bot_messages(channel, after=sent) if "Stopped" in message_text(m)]

    kind = "live streams" if live else "tracks of unknown length"
    assert notice["content"] == f"Stopped **radio** at 0:02: {kind} play for at most 0:02 here."
    assert len(stopped) == 1, [m["content"] for m in stopped]
    assert recorder.errors == []
    # Heard: the stream for its cap, then the queued track whole.
    assert first_stretch_seconds(recorder) == pytest.approx(CAP, abs=0.1)
    assert recorder.audio_seconds() == pytest.approx(CAP + SHORT_SECONDS, abs=0.2)
    assert recorder.dominant_frequency(0.2, CAP - 0.2) == pytest.approx(RADIO_HZ, abs=2.0)
    assert recorder.dominant_frequency(CAP + 0.2, CAP + SHORT_SECONDS - 0.2) == pytest.approx(
        SHORT_TONES[0], abs=2.0
    )
    assert "GET" in radio.requests  # the endless link itself was played, not something else
