"""Opus pass-through through the loopback Discord: an Opus file's own packets are what the listener
decodes, PCM and Opus tracks follow each other without a gap, and a volume change goes over to PCM
(and back) without one."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from audio.timed_audio import TimedAudio
from audio.timed_opus import TimedOpus
from bot.bot import BrentBot
from tests.e2e.brent_rig import Member, StartBrent
from tests.e2e.effects_rig import missed_slots
from tests.fakediscord import FakeDiscord, wait_for_bot
from tests.media import FFMPEG, MediaServer, generate_tone, media_server

pytestmark = pytest.mark.e2e


def encode_opus(path: Path, freq: int, seconds: float) -> Path:
    subprocess.run(
        [FFMPEG, "-nostdin", "-v", "error", "-y", "-f", "lavfi",
         "-i", f"sine=frequency={freq}:sample_rate=48000:duration={seconds}",
         "-ac", "2", "-c:a", "libopus", "-b:a", "96k", str(path)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return path


@pytest.fixture(scope="module")
def opus_media(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MediaServer]:
    root = tmp_path_factory.mktemp("passthrough-media")
    encode_opus(root / "tone440.opus", 440, 8)
    encode_opus(root / "short660.opus", 660, 1.5)
    generate_tone(root / "short500.mp3", 500, 1.5)
    generate_tone(root / "short700.mp3", 700, 1.5)
    with media_server(root) as server:
        yield server


def source_of(bot: BrentBot, member: Member) -> TimedAudio | None:
    player = bot.players.get(member.guild.id)
    turn = getattr(player, "_turn", None)
    return turn.source if turn is not None else None


async def test_an_opus_file_is_heard_from_its_own_packets(
    start_brent: StartBrent, alice: Member, opus_media: MediaServer, fake_discord: FakeDiscord
) -> None:
    recorder = fake_discord.voice_log(alice.guild)
    async with start_brent() as bot:
        await alice.play_and_hear(opus_media.url("tone440.opus"), 1.5)
        source = source_of(bot, alice)
        assert isinstance(source, TimedOpus)
        assert source.from_standby  # the Opus-copying process that waited since login
        # The process's argv: with -c:a copy ffmpeg may already be done with an 8 s file.
        argv = list(source._process.args)
    assert argv[argv.index("-c:a") + 1] == "copy" and "libopus" not in argv
    assert recorder.errors == []
    assert recorder.dominant_frequency(0.2, 1.4) == pytest.approx(440, abs=2)
    assert recorder.gap_stats().p50_ms == pytest.approx(20.0, abs=1.0)


async def test_pcm_and_opus_tracks_follow_each_other_without_a_gap(
    start_brent: StartBrent, alice: Member, opus_media: MediaServer, fake_discord: FakeDiscord
) -> None:
    recorder = fake_discord.voice_log(alice.guild)
    async with start_brent() as bot:
        await alice.join_voice()
        first, _ = await alice.ask(f"play {opus_media.url('short500.mp3')}", "Playing")
        await alice.ask(f"play {opus_media.url('short660.opus')}", "#1")
        await alice.ask(f"play {opus_media.url('short700.mp3')}", "#2")
        await recorder.wait_for_audio(4.3, timeout=20, after=first.sent_at)
        await recorder.wait_for_silence(timeout=10, after=first.sent_at)
        missed = missed_slots(bot)
    assert recorder.errors == []
    heard = [recorder.dominant_frequency(i * 1.5 + 0.2, (i + 1) * 1.5 - 0.2) for i in range(3)]
    assert heard == pytest.approx([500, 660, 700], abs=2.0)
    assert recorder.transitions() == []  # one voice play: no silence frames between the tracks
    assert recorder.sequence_breaks() == []
    assert missed == 0


async def test_a_volume_change_goes_over_to_pcm_and_back_without_a_gap(
    start_brent: StartBrent, alice: Member, opus_media: MediaServer, fake_discord: FakeDiscord
) -> None:
    recorder = fake_discord.voice_log(alice.guild)
    async with start_brent() as bot:
        await alice.play_and_hear(opus_media.url("tone440.opus"), 1.2)
        missed_before = missed_slots(bot)
        half, reply = await alice.ask("volume 50", "50%")
        await wait_for_bot(lambda: type(source_of(bot, alice)) is TimedAudio, 5, "the PCM source taking over")
        changed_at = fake_discord.message_time(reply)
        await recorder.wait_for_audio(1.5, after=changed_at)
        full, _ = await alice.ask("volume 100", "100%")
        await wait_for_bot(lambda: isinstance(source_of(bot, alice), TimedOpus), 5, "copying again")
        await recorder.wait_for_audio(1.5, after=full.sent_at)
        missed_after = missed_slots(bot)
    loud = recorder.rms(0.3, 1.1)
    quiet = recorder.rms(0.8, 1.4, after=changed_at)
    assert quiet / loud == pytest.approx(0.5, abs=0.05)
    assert recorder.rms(0.8, 1.4, after=full.sent_at) / loud == pytest.approx(1.0, abs=0.05)
    assert recorder.dominant_frequency(0.8, 1.4, after=half.sent_at) == pytest.approx(440, abs=2)
    assert recorder.transitions() == [] and recorder.sequence_breaks() == []
    assert missed_after == missed_before
