"""Text as both databases can store it, whatever a Python ``str`` happens to hold.

A ``str`` may carry lone surrogates (``json.loads`` makes one from ``"\\ud800"``, yt-dlp passes such
titles through), which no UTF-8 encoder accepts, and PostgreSQL's ``text`` refuses NUL. Either would
fail the whole write, so one bad uploader would cost a user the entire playlist or saved queue.
"""

from __future__ import annotations

import logging
import re

log = logging.getLogger(__name__)

REPLACEMENT = "\ufffd"

_UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")


def storable(text: str) -> str:
    """``text`` with NUL and every unpaired surrogate replaced by U+FFFD; a paired one becomes its character.

    The UTF-16 round trip is what pairs them: ``surrogatepass`` writes each half as its code unit and the
    decoder joins a high half followed by a low one, replacing any half left alone.
    """
    if _UNSTORABLE.search(text) is None:
        return text
    joined = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return joined.replace("\x00", REPLACEMENT)


def optional_storable(text: str | None) -> str | None:
    return None if text is None else storable(text)
