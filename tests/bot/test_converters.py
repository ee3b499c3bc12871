from __future__ import annotations

import math

import pytest
from discord.ext import commands
from hypothesis import given
from hypothesis import strategies as st

from bot.converters import (
    MAX_TIMESTAMP,
    InvalidArgument,
    parse_loop_mode,
    parse_position,
    parse_seconds,
    parse_timestamp,
    parse_volume,
)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90", 90.0), ("1.5", 1.5), (" 0 ", 0.0), ("1:30", 90.0), ("01:02:03", 3723.0), ("90:00", 5400.0),
     ("0:59.5", 59.5), ("24:00:00", 86400.0)],
)
def test_parse_timestamp_accepts(text: str, seconds: float) -> None:
    assert parse_timestamp(text) == seconds


@pytest.mark.parametrize(
    "text",
    ["", "-5", "nan", "inf", "1e3", "abc", "1:60", "1:60:00", "24:00:01", "90000", "1:2:3:4", "١٢", "1.", ".5",
     "1:-1", "0x10", "5 s"],
)
def test_parse_timestamp_rejects_with_a_user_message(text: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        parse_timestamp(text)
    assert isinstance(info.value, commands.BadArgument)
    assert info.value.user_message == str(info.value)
    assert info.value.user_message


def test_echoed_input_cannot_break_out_of_its_code_span() -> None:
    with pytest.raises(InvalidArgument) as info:
        parse_timestamp("`@everyone`")
    assert "@everyone" not in info.value.user_message
    assert info.value.user_message.count("`") % 2 == 0


def test_parse_seconds_must_be_positive() -> None:
    assert parse_seconds("10") == 10.0
    assert parse_seconds("1:00") == 60.0
    with pytest.raises(InvalidArgument):
        parse_seconds("0")


@pytest.mark.parametrize(("text", "value"), [("1", 1), ("#3", 3), (" 42 ", 42), ("100000", 100000)])
def test_parse_position(text: str, value: int) -> None:
    assert parse_position(text) == value


@pytest.mark.parametrize("text", ["0", "-1", "1.5", "x", "", "100001", "٣"])
def test_parse_position_rejects(text: str) -> None:
    with pytest.raises(InvalidArgument):
        parse_position(text)


@pytest.mark.parametrize(("text", "value"), [("0", 0), ("50", 50), ("50%", 50), (" 200 % ", 200)])
def test_parse_volume(text: str, value: int) -> None:
    assert parse_volume(text) == value


@pytest.mark.parametrize("text", ["201", "-1", "50.5", "loud", "%", ""])
def test_parse_volume_rejects(text: str) -> None:
    with pytest.raises(InvalidArgument):
        parse_volume(text)


@pytest.mark.parametrize(
    ("text", "mode"),
    [("off", "off"), ("NONE", "off"), ("track", "track"), ("song", "track"), ("one", "track"),
     ("queue", "queue"), ("all", "queue")],
)
def test_parse_loop_mode(text: str, mode: str) -> None:
    assert parse_loop_mode(text) == mode


def test_parse_loop_mode_rejects() -> None:
    with pytest.raises(InvalidArgument, match="off"):
        parse_loop_mode("sometimes")


@given(st.text(max_size=40))
def test_fuzz_parsers_raise_only_the_documented_error(text: str) -> None:
    for parser in (parse_timestamp, parse_seconds, parse_position, parse_volume, parse_loop_mode):
        try:
            value = parser(text)
        except InvalidArgument as exc:
            assert exc.user_message
            continue
        if parser in (parse_timestamp, parse_seconds):
            assert isinstance(value, float) and math.isfinite(value) and 0 <= value <= MAX_TIMESTAMP
        elif parser is parse_position:
            assert isinstance(value, int) and value >= 1
        elif parser is parse_volume:
            assert isinstance(value, int) and 0 <= value <= 200
        else:
            assert value in {"off", "track", "queue"}


@given(st.from_regex(r"\A[0-9]{1,2}:[0-9]{1,2}(\.[0-9]{1,3})?\Z", fullmatch=True))
def test_fuzz_clock_forms(text: str) -> None:
    try:
        value = parse_timestamp(text)
    except InvalidArgument:
        minutes, seconds = text.split(":")
        assert float(seconds) >= 60
    else:
        minutes, seconds = text.split(":")
        assert value == pytest.approx(int(minutes) * 60 + float(seconds))
