"""Making outside text safe to post, and the few text formats every reply shares.

Titles, uploaders, playlist names and user input can carry markdown, mentions (``@everyone``,
``<@id>``, ``<@&id>``), the other ``<...>`` markup Discord renders (channels, timestamps, slash
commands, custom emoji, server navigation), control or bidi characters and unbounded length.
:func:`safe_text` neutralises all of them; replies also send ``AllowedMentions.none()``, so an escape
missed here still pings nobody.
"""

from __future__ import annotations

import logging
import math
import re

import discord

from audio.track import Track
from bot.token_mask import TokenMasker

log = logging.getLogger(__name__)

MESSAGE_LIMIT = 2000
EMBED_TITLE_LIMIT = 256
EMBED_DESCRIPTION_LIMIT = 4096
EMBED_FIELD_LIMIT = 1024
ELLIPSIS = "…"

# C0/C1 controls (minus tab and newline), and the bidi overrides/isolates that can reorder a reply.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")
_LINE_BREAKS = re.compile(r"[\t\r\n\u2028\u2029\x85]+")
_TOKENS = TokenMasker(mask="[token hidden]")  # a pasted bot token is never echoed back, encoded or not

ZERO_WIDTH_SPACE = "\u200b"
# Every <...> form (<@id>, <#id>, <t:1700000000:R>, </cmd sub:id>, <a:name:id>, <id:browse>) needs its
# sign right after "<". A zero-width space there breaks all of them and, unlike a backslash, stays
# invisible where nothing is rendered (select-menu labels). "<" before a space, digit or arrow stays as is.
_MARKUP_OPEN = re.compile(r"<(?=[^\s\d<>=-])")


def safe_text(text: str, limit: int = MESSAGE_LIMIT, *, markdown: bool = True, single_line: bool = False) -> str:
    """Neutralise mentions, ``<...>`` markup and (unless ``markdown=False``) markdown; fit ``limit``.

    Control characters and token-shaped strings go too. ``markdown=False`` is for places that do not
    render markdown (select-menu labels) or for text the caller formats on purpose; mentions and
    markup are neutralised either way. The result is at most ``limit`` characters; a cut ends with
    an ellipsis.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    if single_line:
        text = _LINE_BREAKS.sub(" ", text)
    text = _CONTROL.sub("", text)
    text = _TOKENS.mask(text)
    if markdown:
        text = discord.utils.escape_markdown(text)
    text = discord.utils.escape_mentions(text)  # @everyone, @here, @<17-20 digit id>
    text = _MARKUP_OPEN.sub("<" + ZERO_WIDTH_SPACE, text)
    return truncate(text, limit)


def code_span(text: str, limit: int = 200) -> str:
    """``text`` as inline code, for command names and usage lines.

    Discord renders neither markdown nor ``<...>`` markup inside a code span, so those stay as typed
    (``<percent>`` must read as written); a backtick would end the span and is dropped.
    """
    text = _CONTROL.sub("", _LINE_BREAKS.sub(" ", text)).replace("`", "")
    text = discord.utils.escape_mentions(_TOKENS.mask(text))
    return f"`{truncate(text, limit)}`"


def truncate(text: str, limit: int) -> str:
    """Cut to ``limit`` characters with an ellipsis, never splitting an escape.

    A "<" or "@" cut off from its zero-width space, or a lone trailing backslash, would turn back into
    markup next to whatever the caller appends.
    """
    if len(text) <= limit:
        return text
    cut = text[: limit - len(ELLIPSIS)]
    while cut and text[len(cut)] == ZERO_WIDTH_SPACE:
        cut = cut[:-1]
    trailing = len(cut) - len(cut.rstrip("\\"))
    if trailing % 2:
        cut = cut[:-1]
    return cut + ELLIPSIS


def describe(track: Track) -> str:
    """`**Title** (3:05)`: the safe one-line form every reply uses for a track.

    A live stream or radio says ``live``; with no length otherwise (a file not measured yet) it says so.
    """
    if track.live:
        length = "live"
    else:
        length = "length unknown" if track.duration is None else format_duration(track.duration)
    return f"**{safe_text(track.title, 200)}** ({length})"


def format_duration(seconds: float | None) -> str:
    """``3:05``, ``1:02:03``; ``live`` when there is no finite length (live streams, unknown)."""
    if seconds is None or not math.isfinite(seconds):
        return "live"
    total = int(max(seconds, 0.0))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"


def progress_bar(position: float | None, duration: float | None, width: int = 20) -> str:
    """A fixed-width bar such as ``━━━━●───────``; the knob sits at the start when the length is unknown."""
    width = max(width, 2)
    if (
        position is None
        or duration is None
        or not math.isfinite(position)
        or not math.isfinite(duration)
        or duration <= 0
    ):
        fraction = 0.0
    else:
        fraction = min(max(position / duration, 0.0), 1.0)
    filled = round(fraction * (width - 1))
    return "━" * filled + "●" + "─" * (width - 1 - filled)
