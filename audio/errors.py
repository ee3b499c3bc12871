"""Domain errors. Each carries a short message that is safe to show a Discord user.

One handler (``bot.errors``) turns a :class:`BrentError` into a reply; anything else is logged
with its traceback and the user gets a generic apology. Raw exception text never reaches Discord,
because it may hold stream URLs (with the host's IP) or file paths.
"""

from __future__ import annotations


class BrentError(Exception):
    """Base class: ``user_message`` is what the user reads; ``str(exc)`` may carry more detail for logs."""

    def __init__(self, user_message: str, *, detail: str | None = None) -> None:
        super().__init__(detail or user_message)
        self.user_message = user_message


class ExtractionError(BrentError):
    """yt-dlp could not turn the input into a playable track."""


class NothingFound(ExtractionError):
    """A search or URL gave no playable entry."""


class ExtractionTimeout(ExtractionError):
    """yt-dlp did not answer within the configured time."""


class UrlRefused(BrentError):
    """The URL policy refused an address (scheme, host, private network, provider)."""


class QueueError(BrentError):
    """A queue operation was impossible: bad position, empty queue, queue full."""


class PlayerError(BrentError):
    """A playback operation was impossible: nothing playing, not connected, bad seek."""


class FilterError(BrentError):
    """An audio filter name or value outside what :mod:`audio.filters` offers."""


class LimitReached(BrentError):
    """A configured limit (queue cap, per-user cap, duration, cooldown) refused the request."""


class StoreError(BrentError):
    """The database could not be read or written; in-memory playback goes on."""
