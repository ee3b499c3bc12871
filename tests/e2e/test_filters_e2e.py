"""`filter` through the loopback Discord: what a listener hears when members set effects mid-track."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from audio.filters import Filters, Style
from tests.e2e.brent_rig import Member, StartBrent
from tests.e2e.effects_rig import band_energy, generate_mix, missed_slots
from tests.fakediscord import FakeDiscord, message_text, wait_for_bot
from tests.media import MediaServer, generate_tone, media_server

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def effects_media(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MediaServer]:
    root = tmp_path_factory.mktemp("effects-media")
    generate_tone(root / "tone440.mp3", 440, 12)
    generate_mix(root / "bass_and_treble.mp3", (80, 2000), 10)
    with media_server(root) as server:
        yield server


async def test_nightcore_is_heard_a_quarter_higher_and_the_change_leaves_no_gap(
    start_brent: StartBrent, alice: Member, effects_media: MediaServer, fake_discord: FakeDiscord
) -> None:
    recorder = fake_discord.voice_log(alice.guild)
    async with start_brent() as bot:
        await alice.play_and_hear(effects_media.url("tone440.mp3"), 1.5)
        missed_before = missed_slots(bot)
        changed, reply = await alice.ask("filter nightcore", "Filters on")
        assert "nightcore" in reply["content"]
        # The new ffmpeg starts half a second ahead; after it took over, the pitch is 440 * 1.25.
        await recorder.wait_for_audio(2.0, after=changed.sent_at)
        missed_after = missed_slots(bot)
    assert recorder.errors == []
    plain = recorder.dominant_frequency(0.2, 1.2)
    assert plain == pytest.approx(440, abs=2)
    assert recorder.dominant_frequency(1.0, 2.0, after=changed.sent_at) == pytest.approx(550, abs=3)
    assert recorder.transitions() == []  # no silence frames: one voice play all along
    assert recorder.sequence_breaks() == []
    assert missed_after == missed_before  # the clock never found the deck without a frame


async def test_speed_1_5_moves_the_track_a_second_and_a_half_per_second(
    start_brent: StartBrent, alice: Member, effects_media: MediaServer, fake_discord: FakeDiscord
) -> None:
    recorder = fake_discord.voice_log(alice.guild)
    async with start_brent() as bot:
        await alice.play_and_hear(effects_media.url("tone440.mp3"), 1.0)
        changed, _ = await alice.ask("filter speed 1.5", "speed 1.5")
        player = bot.players[alice.guild.id]
        await wait_for_bot(lambda: player.filters == Filters(speed=1.5), 5, "speed set")
        await recorder.wait_for_audio(1.0, after=changed.sent_at)  # the cue has taken over by now
        first_at, first = time.perf_counter(), player.position
        await recorder.wait_for_audio(3.0, after=changed.sent_at)
        last_at, last = time.perf_counter(), player.position
        _, np_reply = await alice.ask("np", "tone440")
    assert first is not None and last is not None
    assert (last - first) / (last_at - first_at) == pytest.approx(1.5, abs=0.1)
    assert recorder.dominant_frequency(0.2, 0.9, after=changed.sent_at + 1.0) == pytest.approx(440, abs=2)
    assert "0:0" in message_text(np_reply) or "0:1" in message_text(np_reply)  # the reported position is track time


async def test_bass_boost_raises_the_low_band_of_what_is_heard(
    start_brent: StartBrent, alice: Member, effects_media: MediaServer, fake_discord: FakeDiscord
) -> None:
    recorder = fake_discord.voice_log(alice.guild)
    async with start_brent():
        await alice.play_and_hear(effects_media.url("bass_and_treble.mp3"), 1.5)
        changed, _ = await alice.ask("filter bass 5", "bass 5")
        await recorder.wait_for_audio(2.0, after=changed.sent_at)
    before = recorder.pcm(0.3, 1.3)
    after = recorder.pcm(1.0, 2.0, after=changed.sent_at)
    low_gain = band_energy(after, 60, 100) / band_energy(before, 60, 100)
    high_gain = band_energy(after, 1900, 2100) / band_energy(before, 1900, 2100)
    assert low_gain > 10  # +15 dB shelf: about x30 in energy at 80 Hz
    assert high_gain == pytest.approx(1.0, abs=0.2)


async def test_bad_names_and_values_are_answered_with_what_fits_and_nothing_changes(
    start_brent: StartBrent, alice: Member, effects_media: MediaServer, fake_discord: FakeDiscord
) -> None:
    async with start_brent() as bot:
        await alice.join_voice()
        await alice.ask(f"play {effects_media.url('tone440.mp3')}", "Playing")
        await alice.ask("filter vaporwave", "vaporwave")
        _, unknown = await alice.ask("filter reverb", "There is no filter")
        _, too_fast = await alice.ask("filter speed 3", "Speed goes from 0.5 to 2.0")
        _, bad_eq = await alice.ask("filter eq <@&1>", "Equalizer presets")
        _, listing = await alice.ask("filter", "Filters on: vaporwave")
        player = bot.players[alice.guild.id]
        assert player.filters == Filters(style=Style.VAPORWAVE)
        _, cleared = await alice.ask("filter off", "Filters on: none")
        assert player.filters == Filters()
        bob = Member(fake_discord, alice.guild, alice.guild.member("bob"))
        await bob.join_voice()
        await bob.ask("filter bass", "DJ", timeout=10)
        assert player.filters == Filters()
    for word in ("bass", "nightcore", "speed", "pitch", "eq", "karaoke", "8d"):
        assert word in unknown["content"]
    assert "rock" in bad_eq["content"] and "<@&1>" not in bad_eq["content"]
    assert "speed <0.5-2.0>" in listing["content"]
