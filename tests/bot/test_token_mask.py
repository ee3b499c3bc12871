"""Tokens are masked however they are encoded: percent-encoding, base64 (any alignment), both at once.

Each form is checked where it matters: in a log record written through a real Logger and handler,
and in ``safe_text``.
"""

from __future__ import annotations

import base64
import io
import logging
import uuid
from collections.abc import Callable, Iterator
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.logging_config import MASK, TokenRedactionFilter
from bot.text import safe_text
from bot.token_mask import TokenMasker, base64_needles

CONFIGURED = "MTA1NjQ4OTk5OTk5OTk5OTk5OQ.GabcDE.abcdefghijklmnopqrstuvwxyz0123456789AB"
OTHER = "OTk4NzY1NDMyMTA5ODc2NTQzMg.Gxyzzy.ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210"
HIDDEN = "[token hidden]"


def b64(data: bytes, *, url_safe: bool = False, padded: bool = True) -> str:
    text = (base64.urlsafe_b64encode if url_safe else base64.b64encode)(data).decode("ascii")
    return text if padded else text.rstrip("=")


def every_char_encoded(text: str) -> str:
    return "".join(f"%{byte:02X}" for byte in text.encode("ascii"))


def percent_forms(token: str) -> dict[str, str]:
    return {
        "dots upper": token.replace(".", "%2E"),
        "dots lower": token.replace(".", "%2e"),
        "every character": every_char_encoded(token),
        "a few letters": token.replace("M", "%4D").replace("a", "%61").replace("-", "%2D"),
        "twice": token.replace(".", "%252E"),
        "in a query": f"https://proxy.example/cb?code=1&t={token.replace('.', '%2E')}&x=%20y",
    }


def base64_forms(token: str) -> dict[str, str]:
    raw = token.encode("ascii")
    forms: dict[str, str] = {}
    for prefix in (b"", b"u:", b"ab:", b"usr:"):  # moves the token through all three byte alignments
        for url_safe in (False, True):
            for padded in (False, True):
                name = f"prefix {len(prefix)} {'url-safe' if url_safe else 'standard'} {'=' if padded else 'no ='}"
                forms[name] = b64(prefix + raw + b"\xfb\xff?", url_safe=url_safe, padded=padded)
    forms["basic auth"] = "Authorization: Basic " + b64(b"brent:" + raw)
    forms["json blob"] = '{"cookie": "' + b64(b'{"session": {"token": "' + raw + b'"}}') + '"}'
    forms["base64 inside a url"] = "https://x.example/api/" + b64(b"k=" + raw, url_safe=True, padded=False)
    forms["percent-encoded base64"] = "auth=" + quote(b64(b"\xfb\xff" + raw + b"\xfe"), safe="")
    forms["base64 of base64"] = b64(b64(b"user:" + raw).encode("ascii"))
    return forms


ALL_FORMS = {**percent_forms(CONFIGURED), **base64_forms(CONFIGURED)}
OTHER_FORMS = {**percent_forms(OTHER), **base64_forms(OTHER)}


@pytest.fixture
def logged() -> Iterator[Callable[[str], str]]:
    """Log through a real Logger whose only handler (with the filter) writes to a StringIO."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    handler.addFilter(TokenRedactionFilter([CONFIGURED]))
    logger = logging.getLogger(f"brent.test.mask.{uuid.uuid4().hex}")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)

    def log_and_read(text: str) -> str:
        start = stream.tell()
        logger.info("seen %s here", text)
        return stream.getvalue()[start:]

    yield log_and_read
    logger.removeHandler(handler)
    handler.close()


def leaks(out: str, token: str) -> bool:
    """The token, or any of its encodings named here, is still in ``out``."""
    pieces = [token, token.split(".")[2], every_char_encoded(token)[:60]]
    pieces += [n.decode("ascii") for n in base64_needles(token)]
    return any(piece in out for piece in pieces)


@pytest.mark.parametrize("form", ALL_FORMS.values(), ids=ALL_FORMS.keys())
def test_the_configured_token_is_masked_in_log_records(logged: Callable[[str], str], form: str) -> None:
    out = logged(form)
    assert MASK in out
    assert not leaks(out, CONFIGURED)
    assert out.startswith("INFO seen ") and out.endswith(" here\n")


@pytest.mark.parametrize("form", OTHER_FORMS.values(), ids=OTHER_FORMS.keys())
def test_any_token_shape_is_masked_in_log_records(logged: Callable[[str], str], form: str) -> None:
    out = logged(form)
    assert MASK in out
    assert not leaks(out, OTHER)


@pytest.mark.parametrize("form", OTHER_FORMS.values(), ids=OTHER_FORMS.keys())
def test_safe_text_hides_every_encoded_form(form: str) -> None:
    out = safe_text(f"you typed {form} ok", 4000, markdown=False)
    assert HIDDEN in out
    assert not leaks(out, OTHER)
    assert out.startswith("you typed ") and out.endswith(" ok")


def test_an_encoded_token_in_a_traceback_is_masked() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(TokenRedactionFilter([CONFIGURED]))
    logger = logging.getLogger(f"brent.test.mask.{uuid.uuid4().hex}")
    logger.propagate = False
    logger.addHandler(handler)
    try:
        raise RuntimeError("proxy said " + ALL_FORMS["basic auth"])
    except RuntimeError:
        logger.exception("request failed")
    handler.close()
    assert "RuntimeError: proxy said Authorization: Basic " + MASK in stream.getvalue()


@pytest.mark.parametrize(
    "plain",
    [
        "Playing https://www.youtube.com/watch?v=dQw4w9WgXcQ&list=PL%20x in guild 123456789012345678",
        "ffmpeg: [https @ 0x55d] HTTP error 403 Forbidden; 100% done; a%2Eb",
        "https://example.com/some%20long%20path%20with%20spaces%20and%20more%20words/file.mp3",
        "hash " + "0123456789abcdef" * 8,
        "blob " + b64(bytes(range(256)) * 3),
        "blob " + b64(b"just some ordinary text that is long enough to be looked at, with dots. here. too."),
    ],
)
def test_ordinary_text_is_left_alone(logged: Callable[[str], str], plain: str) -> None:
    assert logged(plain) == f"INFO seen {plain} here\n"
    assert TokenMasker(mask=HIDDEN).mask(plain) == plain


@given(prefix=st.binary(max_size=7), suffix=st.binary(max_size=7), url_safe=st.booleans())
def test_a_needle_is_found_at_every_alignment(prefix: bytes, suffix: bytes, url_safe: bool) -> None:
    blob = b64(prefix + CONFIGURED.encode("ascii") + suffix, url_safe=url_safe).encode("ascii")
    assert any(needle in blob for needle in base64_needles(CONFIGURED))


@given(st.text(max_size=300))
def test_text_changes_only_where_something_was_masked(text: str) -> None:
    masker = TokenMasker([CONFIGURED], mask=MASK)
    out = masker.mask(text)
    assert out == text or MASK in out
