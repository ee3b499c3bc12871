"""classify_end(): the recovery rules as a pure function, without ffmpeg or a voice connection.

Each case is what a source knew when its output ended (SourceEnd) and what the player must do next:
the track finished, hit its cap, failed, broke off and restarts where it was, or waits for voice.
"""

from __future__ import annotations

import asyncio

import pytest

from audio.errors import ExtractionError, PlayerError
from audio.events import EndReason, PlayLimitReached
from audio.options import PlayerOptions
from audio.recovery import AwaitReconnect, Ended, RestartAt, SourceEnd, classify_end, voice_returns

OPTIONS = PlayerOptions(recovery_attempts=2, end_tolerance=1.5)
DURATION = 180.0


def end(position: float, **known: object) -> SourceEnd:
    """A source that started at 0 s and handed out ``position`` seconds of audio (20 ms frames)."""
    fields: dict[str, object] = {"start": 0.0, "frames_read": round(position / 0.02), "live": False}
    fields.update(known)
    return SourceEnd(position=position, **fields)


def classify(source_end: SourceEnd, *, duration: float | None = DURATION, recoveries: int = 0,
             connected: bool = True) -> object:  # fmt: skip
    return classify_end(
        duration, source_end, recoveries=recoveries, options=OPTIONS, voice_connected=connected
    )


def test_an_end_at_the_known_length_finished() -> None:
    assert classify(end(DURATION)) == Ended(EndReason.FINISHED)


def test_an_end_within_the_tolerance_of_the_length_finished() -> None:
    assert classify(end(DURATION - 1.4)) == Ended(EndReason.FINISHED)


def test_an_end_without_a_known_length_finished() -> None:
    assert classify(end(12.0), duration=None) == Ended(EndReason.FINISHED)


def test_a_live_stream_never_breaks_off() -> None:
    assert classify(end(12.0, live=True)) == Ended(EndReason.FINISHED)


def test_an_early_end_restarts_at_its_position() -> None:
    assert classify(end(60.0)) == RestartAt(60.0)


def test_an_early_end_with_an_ffmpeg_error_restarts_too() -> None:
    assert classify(end(60.0, error=RuntimeError("connection reset"))) == RestartAt(60.0)


def test_the_restarts_run_out_and_the_track_fails_with_the_reason_kept() -> None:
    assert classify(end(60.0), recoveries=1) == RestartAt(60.0)
    cause = RuntimeError("connection reset")
    verdict = classify(end(61.0, error=cause), recoveries=2)
    assert isinstance(verdict, Ended) and verdict.reason is EndReason.FAILED
    assert isinstance(verdict.error, PlayerError)
    assert verdict.error.user_message == "The stream kept breaking off, so I skipped it."
    assert "61.0 s after 2 restarts" in str(verdict.error) and verdict.error.__cause__ is cause


def test_a_voice_drop_waits_for_the_reconnect_instead_of_spending_a_restart() -> None:
    assert classify(end(60.0), connected=False) == AwaitReconnect(60.0)
    assert classify(end(60.0), recoveries=2, connected=False) == AwaitReconnect(60.0)


def test_a_finished_track_does_not_wait_for_voice() -> None:
    assert classify(end(DURATION), connected=False) == Ended(EndReason.FINISHED)


def test_a_source_that_never_gave_a_frame_fails_at_once() -> None:
    """404, refused, timeout: retrying would only repeat the wait."""
    cause = RuntimeError("ffmpeg exited with 1")
    verdict = classify(end(0.0, error=cause))
    assert isinstance(verdict, Ended) and verdict.reason is EndReason.FAILED
    assert isinstance(verdict.error, PlayerError) and verdict.error.__cause__ is cause


def test_a_restarted_source_that_gives_nothing_is_a_break_not_a_first_failure() -> None:
    assert classify(end(60.0, start=60.0, frames_read=0), recoveries=1) == RestartAt(60.0)
    assert classify(end(60.0, start=60.0, frames_read=0)) == RestartAt(60.0)  # a resumed start


def test_a_domain_error_is_passed_on_as_it_is() -> None:
    cause = ExtractionError("That video is unavailable.")
    assert classify(end(DURATION, error=cause)) == Ended(EndReason.FAILED, cause)


def test_the_play_limit_ends_with_time_limit_and_says_which_cap() -> None:
    verdict = classify(end(30.0, live=True, limit_reached=True, play_limit=30.0))
    assert isinstance(verdict, Ended) and verdict.reason is EndReason.TIME_LIMIT
    assert isinstance(verdict.error, PlayLimitReached) and verdict.error.live and verdict.error.limit == 30.0
    unknown = classify(end(30.0, limit_reached=True, play_limit=30.0), duration=None)
    assert isinstance(unknown, Ended) and isinstance(unknown.error, PlayLimitReached)
    assert not unknown.error.live


def test_an_error_at_the_limit_is_a_failure_not_the_cap() -> None:
    verdict = classify(end(30.0, limit_reached=True, play_limit=30.0, error=RuntimeError("x")), duration=None)
    assert isinstance(verdict, Ended) and verdict.reason is EndReason.FAILED


def test_the_tolerance_and_the_attempts_come_from_the_options() -> None:
    strict = PlayerOptions(recovery_attempts=0, end_tolerance=0.1)
    verdict = classify_end(DURATION, end(DURATION - 1.0), recoveries=0, options=strict, voice_connected=True)
    assert isinstance(verdict, Ended) and verdict.reason is EndReason.FAILED


class Voice:
    def __init__(self, connected: bool) -> None:
        self.connected = connected

    def is_connected(self) -> bool:
        return self.connected


@pytest.mark.parametrize(
    ("voice", "wanted", "expected"),
    [(Voice(True), True, True), (Voice(False), True, False), (None, True, None), (Voice(True), False, None)],
)
async def test_voice_returns(voice: Voice | None, wanted: bool, expected: bool | None) -> None:
    result = await voice_returns(lambda: voice, 0.05, still_wanted=lambda: wanted)
    assert result is expected


async def test_voice_returns_once_the_connection_is_back() -> None:
    voice = Voice(False)
    asyncio.get_running_loop().call_later(0.15, setattr, voice, "connected", True)
    assert await voice_returns(lambda: voice, 5.0, still_wanted=lambda: True) is True
