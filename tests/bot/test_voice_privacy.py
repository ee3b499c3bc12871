"""PrivacyWatch: when a plain (not DAVE-encrypted) voice stretch is worth one log line."""

from __future__ import annotations

import logging

import pytest

from bot.voice_privacy import Privacy, PrivacyWatch

GUILD = 42


def lines(caplog: pytest.LogCaptureFixture) -> list[tuple[int, str]]:
    return [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "bot.voice_privacy"]


@pytest.fixture
def watch(caplog: pytest.LogCaptureFixture) -> PrivacyWatch:
    caplog.set_level(logging.INFO, logger="bot.voice_privacy")
    return PrivacyWatch(GUILD, grace=3.0)


def test_joining_a_call_within_the_grace_says_nothing(watch: PrivacyWatch, caplog: pytest.LogCaptureFixture) -> None:
    watch.observe(Privacy.NOT_IN_GROUP, heard=True, now=0.0)
    watch.observe(Privacy.NOT_IN_GROUP, heard=True, now=2.9)
    watch.observe(Privacy.ENCRYPTED, heard=True, now=3.1)
    assert lines(caplog) == []


def test_a_plain_stretch_past_the_grace_is_one_warning_then_one_all_clear(
    watch: PrivacyWatch, caplog: pytest.LogCaptureFixture
) -> None:
    for now in (0.0, 1.0, 3.0, 4.0, 60.0):
        watch.observe(Privacy.NOT_IN_GROUP, heard=True, now=now)
    watch.observe(Privacy.ENCRYPTED, heard=True, now=61.0)
    watch.observe(Privacy.ENCRYPTED, heard=True, now=62.0)
    assert [level for level, _ in lines(caplog)] == [logging.WARNING, logging.INFO]
    assert f"guild {GUILD} is NOT end-to-end encrypted" in lines(caplog)[0][1]


def test_nobody_listening_is_not_reported(watch: PrivacyWatch, caplog: pytest.LogCaptureFixture) -> None:
    for now in (0.0, 5.0, 10.0):
        watch.observe(Privacy.NO_DAVE, heard=False, now=now)
    watch.observe(Privacy.NO_DAVE, heard=True, now=11.0)
    watch.observe(Privacy.NO_DAVE, heard=True, now=13.9)  # the grace counts from the first listener
    assert lines(caplog) == []
    watch.observe(Privacy.NO_DAVE, heard=True, now=14.0)
    assert lines(caplog) == [(logging.WARNING, f"Voice in guild {GUILD} is NOT end-to-end encrypted: {Privacy.NO_DAVE.value}")]


def test_a_different_reason_is_a_new_line(watch: PrivacyWatch, caplog: pytest.LogCaptureFixture) -> None:
    watch.observe(Privacy.NOT_IN_GROUP, heard=True, now=0.0)
    watch.observe(Privacy.NOT_IN_GROUP, heard=True, now=3.0)
    watch.observe(Privacy.NO_DAVE, heard=True, now=4.0)
    assert [m.split(": ", 1)[1] for _, m in lines(caplog)] == [Privacy.NOT_IN_GROUP.value, Privacy.NO_DAVE.value]
