from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.text import (
    EMBED_DESCRIPTION_LIMIT,
    EMBED_FIELD_LIMIT,
    EMBED_TITLE_LIMIT,
    MESSAGE_LIMIT,
    format_duration,
    progress_bar,
    safe_text,
)


def test_discord_limits() -> None:
    assert (MESSAGE_LIMIT, EMBED_TITLE_LIMIT, EMBED_DESCRIPTION_LIMIT, EMBED_FIELD_LIMIT) == (2000, 256, 4096, 1024)


@pytest.mark.parametrize(
    "raw",
    ["@everyone listen", "hi @here", "<@123456789012345678>", "<@!123456789012345678>", "<@&123456789012345678>"],
)
def test_mentions_are_broken(raw: str) -> None:
    for markdown in (True, False):
        out = safe_text(raw, markdown=markdown)
        assert "@\u200b" in out
        for mention in ("@everyone", "@here", "<@1", "<@!1", "<@&1"):
            assert mention not in out


def test_markdown_is_escaped_unless_asked_not_to() -> None:
    assert safe_text("**bold** _it_ `code` ~~s~~ ||spoil||") == r"\*\*bold\*\* \_it\_ \`code\` \~\~s\~\~ \|\|spoil\|\|"
    assert safe_text("**bold**", markdown=False) == "**bold**"


def test_control_and_bidi_characters_are_stripped() -> None:
    assert safe_text("a\x00b\x1bc\u202ed\u2066e\x7f") == "abcde"
    assert safe_text("line1\nline2") == "line1\nline2"
    assert safe_text("line1\r\nline2\tx", single_line=True) == "line1 line2 x"


def test_truncation_adds_an_ellipsis_within_the_limit() -> None:
    out = safe_text("x" * 50, 10)
    assert out == "x" * 9 + "…"
    assert safe_text("short", 10) == "short"
    assert safe_text("x" * 10, 10) == "x" * 10


def test_truncation_never_leaves_a_dangling_escape() -> None:
    out = safe_text("aaaa*bbbbbb", 6)  # escaped: aaaa\*bbbbbb
    assert out == "aaaa…"


@given(st.text(), st.integers(min_value=1, max_value=300), st.booleans())
def test_safe_text_properties(raw: str, limit: int, markdown: bool) -> None:
    out = safe_text(raw, limit, markdown=markdown)
    assert len(out) <= limit
    assert "@everyone" not in out and "@here" not in out
    assert not any(ord(ch) < 32 and ch not in "\t\n" for ch in out)
    if out != safe_text(raw, 10**6, markdown=markdown):
        assert out.endswith("…")


def test_limit_must_be_positive() -> None:
    with pytest.raises(ValueError):
        safe_text("x", 0)


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (None, "live"),
        (math.inf, "live"),
        (math.nan, "live"),
        (0, "0:00"),
        (5.9, "0:05"),
        (185, "3:05"),
        (3723, "1:02:03"),
        (36000, "10:00:00"),
        (-4, "0:00"),
    ],
)
def test_format_duration(seconds: float | None, shown: str) -> None:
    assert format_duration(seconds) == shown


def test_progress_bar() -> None:
    assert progress_bar(0, 100, 11) == "●" + "─" * 10
    assert progress_bar(50, 100, 11) == "━" * 5 + "●" + "─" * 5
    assert progress_bar(100, 100, 11) == "━" * 10 + "●"
    assert progress_bar(500, 100, 11) == "━" * 10 + "●"
    assert progress_bar(30, None, 11) == "●" + "─" * 10
    assert len(progress_bar(12.3, 60)) == 20


@given(
    st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)),
    st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)),
    st.integers(min_value=2, max_value=60),
)
def test_progress_bar_is_always_its_width_with_one_knob(position: float | None, duration: float | None, width: int) -> None:
    bar = progress_bar(position, duration, width)
    assert len(bar) == width
    assert bar.count("●") == 1


def test_masked_links_and_headers_from_titles_do_not_render() -> None:
    assert safe_text("[Free Nitro](https://evil.example/x)").startswith("\\[Free Nitro]")
    assert safe_text("# Big header") == "\\# Big header"
    assert safe_text("> quote") == "\\> quote"


def test_a_pasted_bot_token_is_never_echoed() -> None:
    token = "MTA1NjQ4OTk5OTk5OTk5OTk5OQ.GabcDE.abcdefghijklmnopqrstuvwxyz0123456789AB"
    shown = safe_text(f"you typed {token} here", 500)
    assert "MTA1NjQ4OTk5" not in shown and "[token hidden]" in shown
