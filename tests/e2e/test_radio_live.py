"""An internet radio station (Icecast-like: endless audio/mpeg with icy-* headers) plays as live:
"live" in the replies, no seeking, and the live cap (MAX_LIVE_DURATION), not the unknown-length one."""

from __future__ import annotations

import http.server
from collections.abc import Iterator

import pytest

from audio.errors import PlayerError
from audio.executors import ExecutorMode
from audio.extractor import Extractor
from audio.url_policy import UrlPolicy
from tests.e2e.brent_rig import Member, StartBrent
from tests.e2e.test_play_limits import EndlessRadio, radio_chunk  # noqa: F401 (fixture)
from tests.fakediscord import FakeDiscord, message_text

pytestmark = pytest.mark.e2e

CAP = 2.0


class IcyRadio(EndlessRadio):
    """The same endless stream, answered the way Icecast answers: with the station's icy-* headers."""

    def _answer(self, handler: http.server.BaseHTTPRequestHandler, *, body: bool) -> None:
        original = handler.end_headers

        def end_headers() -> None:
            handler.send_header("icy-name", "Loopback FM")
            handler.send_header("icy-br", "128")
            original()

        handler.end_headers = end_headers  # type: ignore[method-assign]
        super()._answer(handler, body=body)


@pytest.fixture
def icy_radio(radio_chunk: bytes) -> Iterator[IcyRadio]:  # noqa: F811
    with IcyRadio(radio_chunk) as server:
        yield server


@pytest.fixture
def plain_radio(radio_chunk: bytes) -> Iterator[EndlessRadio]:  # noqa: F811
    with EndlessRadio(radio_chunk) as server:
        yield server


async def test_measure_marks_a_station_live_and_only_a_station(icy_radio: IcyRadio, plain_radio: EndlessRadio) -> None:
    extractor = Extractor(policy=UrlPolicy(allow_private_network=True), mode=ExecutorMode.THREAD, timeout=15.0)
    try:
        [station] = await extractor.resolve_all(icy_radio.url)
        assert (station.live, station.duration) == (False, None)  # not known before it is measured
        measured = await extractor.measure(station)
        assert (measured.live, measured.duration) == (True, None)
        assert not extractor.needs_measuring(measured)
        assert (await extractor.stream(measured)).is_live
        [endless] = await extractor.resolve_all(plain_radio.url)
        unknown = await extractor.measure(endless)
        assert (unknown.live, unknown.duration) == (False, None)  # no icy headers: a track of unknown length
        assert not (await extractor.stream(unknown)).is_live
    finally:
        extractor.close()


async def test_a_station_plays_live_without_seeking_until_the_live_cap(
    start_brent: StartBrent, alice: Member, icy_radio: IcyRadio, fake_discord: FakeDiscord  # noqa: F811
) -> None:
    recorder = fake_discord.voice_log(alice.guild)
    async with start_brent(max_live_duration=CAP, max_track_duration=60.0) as bot:
        await alice.join_voice()
        sent, reply = await alice.ask(f"play {icy_radio.url}", "Playing")
        assert message_text(reply) == "Playing **radio** (live)."
        await recorder.wait_for_audio(0.5, after=sent.sent_at)
        _, refused = await alice.ask("seek 1", "seek")
        assert message_text(refused) == PlayerError("You can't seek in a live stream.").user_message
        _, now = await alice.ask("np", "Length")  # np's embed; the controller came before the command
        assert "Length live" in message_text(now)
        notice = await fake_discord.wait_for_message(alice.guild.text_channel, "Stopped", timeout=30, after=sent)
        assert message_text(notice) == "Stopped **radio** at 0:02: live streams play for at most 0:02 here."
        assert bot.players[alice.guild.id].current is None
