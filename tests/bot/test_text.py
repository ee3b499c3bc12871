from __future__ import annotations

import math

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from bot.text import (
    EMBED_DESCRIPTION_LIMIT,
    EMBED_FIELD_LIMIT,
    EMBED_TITLE_LIMIT,
    MESSAGE_LIMIT,
    ZERO_WIDTH_SPACE,
    code_span,
    describe,
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


# Discord's renderer only recognises these when "<" is directly followed by the form's own sign.
MARKUP_FORMS = [
    "<t:1700000000>",
    "<t:1700000000:R>",
    "<t:-1:F>",
    "<#123456789012345678>",
    "<#1>",
    "</play:123456789012345678>",
    "</playlist show:123456789012345678>",
    "</a b c:1>",
    "<:blobcat:123456789012345678>",
    "<a:party:123456789012345678>",
    "<id:customize>",
    "<id:browse>",
    "<id:guide>",
    "<id:linked-roles>",
    "<id:linked-roles:123>",
    "<@123456789012345678>",
    "<@!123456789012345678>",
    "<@&123456789012345678>",
    "<@1>",  # ids too short for discord.utils.escape_mentions
    "<@!12>",
    "<@&3>",
]


def _renders_as_markup(text: str, form: str) -> bool:
    """True when the exact form, "<" and its sign touching, survived anywhere in the output."""
    return form[:2] in text


@pytest.mark.parametrize("form", MARKUP_FORMS)
@pytest.mark.parametrize("markdown", [True, False])
def test_every_angle_bracket_form_is_neutralised_mid_title(form: str, markdown: bool) -> None:
    out = safe_text(f"Live at {form} tonight", markdown=markdown)
    assert not _renders_as_markup(out, form)
    assert out.replace(ZERO_WIDTH_SPACE, "") == f"Live at {form} tonight"


@pytest.mark.parametrize("form", MARKUP_FORMS)
def test_a_neutralised_form_reads_the_same(form: str) -> None:
    out = safe_text(form, markdown=False)
    assert out.startswith("<" + ZERO_WIDTH_SPACE)
    assert out.replace(ZERO_WIDTH_SPACE, "") == form


@pytest.mark.parametrize(
    "plain", ["a < b", "<3", "x <= y", "<-- back", "a << b", "<>", "1 <2", "ends with <", "< spaced >"]
)
def test_ordinary_angle_brackets_are_left_alone(plain: str) -> None:
    assert safe_text(plain) == plain
    assert safe_text(plain, markdown=False) == plain


@pytest.mark.parametrize("form", ["<#123456789012345678>", "<t:1700000000:R>", "<@123456789012345678>"])
@pytest.mark.parametrize("markdown", [True, False])
def test_truncation_never_separates_a_sign_from_its_guard(form: str, markdown: bool) -> None:
    title = "abc " + form
    full = safe_text(title, markdown=markdown)
    for limit in range(1, len(full) + 1):
        out = safe_text(title, limit, markdown=markdown)
        body = out.removesuffix("…")
        assert not body.endswith(("<", "@")), (limit, out)
        assert not _renders_as_markup(out + form[1:], form), (limit, out)


@given(st.text(alphabet=st.sampled_from("<@#/:ta1!& >\\\u200b_*")), st.integers(1, 40), st.booleans())
@example(raw="\u200b1", limit=1, markdown=False)  # a zero-width space typed by the user is no guard
def test_no_markup_opener_survives_any_cut(raw: str, limit: int, markdown: bool) -> None:
    out = safe_text(raw, limit, markdown=markdown)
    assert not any("<" + sign in out for sign in "@#/:ta!&")
    full = safe_text(raw, 10**6, markdown=markdown)
    if out != full:
        body = out.removesuffix("…")
        assert full.startswith(body)
        # the cut never falls between a sign and its guard
        assert not (body.endswith(("<", "@")) and full[len(body)] == ZERO_WIDTH_SPACE)


def test_code_span_keeps_angle_brackets_but_not_backticks_mentions_or_tokens() -> None:
    token = "MTA1NjQ4OTk5OTk5OTk5OTk5OQ.GabcDE.abcdefghijklmnopqrstuvwxyz0123456789AB"
    assert code_span("\\volume <percent>") == "`\\volume <percent>`"
    out = code_span(f"a`b @everyone\n{token}")
    assert out.count("`") == 2
    assert "@everyone" not in out and token not in out
    assert "\n" not in out
    assert len(code_span("x" * 500, 50)) == 52


def test_describe_says_when_the_length_is_unknown_and_never_pings() -> None:
    from audio.track import Provider, Track

    def track(title: str, duration: float | None) -> Track:
        return Track(title, "https://example.org/a.mp3", duration, None, None, Provider.DIRECT)

    assert describe(track("Song", 185.0)) == "**Song** (3:05)"
    assert describe(track("Radio", None)) == "**Radio** (length unknown)"
    assert "@everyone" not in describe(track("@everyone <t:1:R>", 1.0))
