"""What a member typed: a link, search words, or something refused before any lookup.

A text that merely looks like a non-web link (``file:``, ``concat:``, a path on this machine) must
never become search words: as a link the policy refuses it, as a path it is refused here.
"""

from __future__ import annotations

import re

import validators

from audio.errors import ExtractionError, NothingFound, UrlRefused
from audio.extractor.messages import MSG_EMPTY, MSG_LOCAL_PATH, MSG_QUERY_TOO_LONG

MAX_QUERY_LENGTH = 300
_SCHEME_PREFIX = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")
# FFmpeg protocol and other non-web schemes written without "//" (concat:a|b, data:..., file:/x).
_PROTOCOL_PREFIX = re.compile(
    r"^(?:file|data|concatf?|subfile|pipe|cache|crypto|fd|javascript|ftp|sftp|gopher|rtmp\w*|rtsp|rtp|srt|udp|"
    r"tcp|tls|hls|async|httpproxy|unix|zmq|smb|mmsh?|icecast|ipfs|ipns|bluray|sctp|android_content)[:,]",
    re.IGNORECASE,
)
_LOCAL_PATH = re.compile(r"^(?:/|~|\.{1,2}[/\\]|[A-Za-z]:[/\\]|\\\\)")


def unwrap_angle_brackets(text: str) -> str:
    """Discord users write ``<https://...>`` to suppress the embed."""
    if len(text) > 2 and text.startswith("<") and text.endswith(">"):
        return text[1:-1].strip()
    return text


def is_url(text: str) -> bool:
    """Links (even ones the policy will refuse, like ``file://``) versus search words."""
    text = unwrap_angle_brackets(text.strip())
    if not text or any(c.isspace() for c in text):
        return False
    if _SCHEME_PREFIX.match(text) or _PROTOCOL_PREFIX.match(text):
        return True
    return bool(validators.url(text, simple_host=True))


def lookup_query(text: str, *, search_provider: str, hits: int) -> tuple[str, bool]:
    """What to hand yt-dlp for ``text``, and whether it is a link.

    A link is handed as written (the policy checks it in the job); words become a search for
    ``hits`` results such as ``ytsearch5:words``. Empty text, a local path and an overlong search
    are refused here, before any lookup.
    """
    text = unwrap_angle_brackets(text.strip())
    if not text:
        raise NothingFound(MSG_EMPTY)
    if _LOCAL_PATH.match(text):
        raise UrlRefused(MSG_LOCAL_PATH, detail="local path")
    if is_url(text):
        return text, True
    if len(text) > MAX_QUERY_LENGTH:
        raise ExtractionError(MSG_QUERY_TOO_LONG, detail=f"query of {len(text)} chars")
    return f"{search_provider}{hits}:{text}", False
