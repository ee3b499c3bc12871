"""Finding a Discord bot token in text, also when it is percent-encoded or hidden inside base64.

A token leaks in more shapes than its own: URL-encoded in a query string or a proxy URL, or inside
base64 (``Authorization: Basic base64(user:token)``, a JSON blob, a cookie). The log filter runs this
on every record and ``safe_text`` on every reply. A regex scan costs about 10 ns a character, so each
pattern only runs on the stretches of text a byte-level sketch (one ``bytes.translate``, a few
microseconds for 10 kB) shows to be long enough to hold a token.
"""

from __future__ import annotations

import binascii
import logging
import re
import string
from collections.abc import Callable, Iterable, Iterator
from urllib.parse import unquote_to_bytes

from bot.settings import TOKEN_PATTERN

log = logging.getLogger(__name__)

_MIN_TOKEN = 44  # 18 + "." + 4 + "." + 20
_MIN_BASE64_RUN = -(-_MIN_TOKEN * 4 // 3)  # the shortest base64 that can carry that many bytes
_MAX_DEPTH = 3  # layers of encoding looked through, e.g. base64 of a percent-encoded token

_WORD = "A-Za-z0-9_-"
_BASE64 = "A-Za-z0-9+/_-"
_URL_SAFE = "A-Za-z0-9._~+/-"
_URL_CHAR = rf"(?:[{_URL_SAFE}]|%[0-9A-Fa-f]{{2}})"
# The lookbehinds let a match start only where a run starts: the same matches, in linear time.
_TOKEN_SOURCE = rf"(?<![{_WORD}]){TOKEN_PATTERN.pattern}"
_PERCENT_SOURCE = rf"(?<![{_URL_SAFE}]){_URL_CHAR}*%[0-9A-Fa-f]{{2}}{_URL_CHAR}*"
_TOKEN = re.compile(_TOKEN_SOURCE)
_TOKEN_BYTES = re.compile(_TOKEN_SOURCE.encode("ascii"))
_PERCENT_RUN = re.compile(_PERCENT_SOURCE)
_PERCENT_RUN_BYTES = re.compile(_PERCENT_SOURCE.encode("ascii"))

_TOKEN_CHARS = string.ascii_letters + string.digits + "_-"


def _sketch_table(classes: dict[str, str]) -> bytes:
    """A translate table: each listed character becomes its class mark, every other byte a space."""
    table = bytearray(b" " * 256)
    for chars, mark in classes.items():
        for byte in chars.encode("ascii"):
            table[byte] = ord(mark)
    return bytes(table)


_TOKEN_SKETCH = _sketch_table({_TOKEN_CHARS: "w", ".": "."})
_TOKEN_HINT = b"w" * 18 + b"."
_BASE64_SKETCH = _sketch_table({_TOKEN_CHARS + "+/": "b", "=": "="})
_URL_SKETCH = _sketch_table({_TOKEN_CHARS + "+/.~%": "u"})
_TO_STANDARD = bytes.maketrans(b"-_", b"+/")
_TO_URL_SAFE = bytes.maketrans(b"+/", b"-_")


def _windows(sketch: bytes, hint: bytes) -> Iterator[tuple[int, int]]:
    """The spans of the space-free stretches of ``sketch`` that contain ``hint``."""
    found = sketch.find(hint)
    while found >= 0:
        start = sketch.rfind(b" ", 0, found) + 1
        end = sketch.find(b" ", found + len(hint))
        end = len(sketch) if end < 0 else end
        yield start, end
        found = sketch.find(hint, end)


def _sub_windows(
    text: str,
    sketch_table: bytes,
    hint: bytes,
    pattern: re.Pattern[str],
    replace: Callable[[re.Match[str]], str],
) -> str:
    # latin-1 with "replace" keeps one byte per character, so sketch positions are text positions.
    sketch = text.encode("latin-1", "replace").translate(sketch_table)
    pieces: list[str] = []
    done = 0
    for start, end in _windows(sketch, hint):
        pieces += (text[done:start], pattern.sub(replace, text[start:end]))
        done = end
    if not pieces:
        return text
    pieces.append(text[done:])
    return "".join(pieces)


def _runs(data: bytes, sketch_table: bytes, hint: bytes, pattern: re.Pattern[bytes]) -> Iterator[bytes]:
    sketch = data.translate(sketch_table)
    for start, end in _windows(sketch, hint):
        yield from (m.group() for m in pattern.finditer(data, start, end))


def base64_needles(secret: str) -> frozenset[bytes]:
    """What ``secret`` looks like inside any longer base64 text, standard or url-safe.

    base64 turns 3 bytes into 4 characters, so the same secret encodes three ways depending on where
    it starts within a 3-byte group. Each needle keeps only the characters made from the secret's bits
    alone; the one or two at either end also hold a neighbour's bits and differ from blob to blob.
    """
    raw = secret.encode("utf-8")
    needles: set[bytes] = set()
    for shift in range(3):
        encoded = binascii.b2a_base64(b"\0" * shift + raw, newline=False)
        core = encoded[-(-8 * shift // 6) : 8 * (shift + len(raw)) // 6]
        if core:
            needles.update((core, core.translate(_TO_URL_SAFE)))
    return frozenset(needles)


def _decoded(run: bytes) -> bytes:
    """``run`` decoded from each of its first four characters (the blob need not start where the run
    does), joined by spaces so that one search covers all four."""
    standard = run.rstrip(b"=").translate(_TO_STANDARD)
    decodings = []
    for start in range(4):
        body = standard[start:]
        body = body[: len(body) - len(body) % 4]
        if len(body) * 3 // 4 >= _MIN_TOKEN:
            decodings.append(binascii.a2b_base64(body))
    return b" ".join(decodings)


class TokenMasker:
    """Replaces every token-shaped string and configured secret, plain or encoded, with ``mask``."""

    def __init__(self, secrets: Iterable[str] = (), *, mask: str) -> None:
        self._secrets = tuple(sorted({s for s in secrets if s}, key=len, reverse=True))
        self._secret_bytes = tuple(s.encode("utf-8") for s in self._secrets)
        self._needles: frozenset[bytes] = frozenset().union(*(base64_needles(s) for s in self._secrets))
        self._mask = mask
        shortest_run = min([_MIN_TOKEN, *(len(s) for s in self._secrets)])
        self._percent_hint = b"u" * shortest_run
        shortest_run = min([_MIN_BASE64_RUN, *(len(n) for n in self._needles)])
        self._base64_hint = b"b" * shortest_run
        source = rf"(?<![{_BASE64}])[{_BASE64}]{{{shortest_run},}}=*"
        self._base64_run = re.compile(source)
        self._base64_run_bytes = re.compile(source.encode("ascii"))

    def mask(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, self._mask)
        text = _sub_windows(text, _TOKEN_SKETCH, _TOKEN_HINT, _TOKEN, lambda m: self._mask)
        if "%" in text:
            text = _sub_windows(text, _URL_SKETCH, self._percent_hint, _PERCENT_RUN, self._mask_percent_run)
        return _sub_windows(text, _BASE64_SKETCH, self._base64_hint, self._base64_run, self._mask_base64_run)

    def reveals(self, data: bytes, depth: int = _MAX_DEPTH) -> bool:
        """True when ``data`` holds a token or a secret, plainly or under up to ``depth`` encodings."""
        if any(secret in data for secret in self._secret_bytes):
            return True
        if any(True for _ in _runs(data, _TOKEN_SKETCH, _TOKEN_HINT, _TOKEN_BYTES)):
            return True
        if depth <= 0:
            return False
        if b"%" in data and any(
            self._percent_run_reveals(run, depth)
            for run in _runs(data, _URL_SKETCH, self._percent_hint, _PERCENT_RUN_BYTES)
        ):
            return True
        return any(
            self._base64_run_reveals(run, depth)
            for run in _runs(data, _BASE64_SKETCH, self._base64_hint, self._base64_run_bytes)
        )

    def _percent_run_reveals(self, run: bytes, depth: int) -> bool:
        return len(run) >= len(self._percent_hint) and self.reveals(unquote_to_bytes(run), depth - 1)

    def _base64_run_reveals(self, run: bytes, depth: int) -> bool:
        return any(needle in run for needle in self._needles) or self.reveals(_decoded(run), depth - 1)

    def _mask_percent_run(self, match: re.Match[str]) -> str:
        run = match.group()
        return self._mask if self._percent_run_reveals(run.encode("ascii"), _MAX_DEPTH) else run

    def _mask_base64_run(self, match: re.Match[str]) -> str:
        run = match.group()
        return self._mask if self._base64_run_reveals(run.encode("ascii"), _MAX_DEPTH) else run
