"""What a member reads when a lookup fails, and which yt-dlp failure reads as which.

yt-dlp's own error text carries URLs and addresses; it stays in the error's ``detail`` for the log.
"""

from __future__ import annotations

from yt_dlp.utils import DownloadError, GeoRestrictedError, UnsupportedError

from audio.errors import BrentError, ExtractionError, ExtractionTimeout

MSG_GENERIC = "I couldn't load that track."
MSG_NOTHING = "I found nothing playable for that."
MSG_TIMEOUT = "Looking that up took too long; try again or try another link."
MSG_BOT_CHECK = "YouTube is refusing this host (bot check); try a SoundCloud or direct link."
MSG_PRIVATE = "That video is private."
MSG_AGE = "That video is age-restricted and the bot can't sign in to play it."
MSG_GEO = "That track isn't available in the bot's country."
MSG_UNSUPPORTED = "I can't play that link; try YouTube, SoundCloud, Bandcamp or a direct audio file."
MSG_UNAVAILABLE = "That track is unavailable (removed, or it never existed)."
MSG_NOT_STARTED = "That live stream hasn't started yet."
MSG_DRM = "That track is DRM-protected, so I can't play it."
MSG_NO_AUDIO = "I couldn't find an audio stream for that track."
MSG_NOT_AUDIO_FILE = "That link isn't an audio file I can play."
MSG_FORBIDDEN = "The site refused to hand over that track."
MSG_UNREACHABLE = "I couldn't reach that site."
MSG_TOO_LARGE = "That page is far too large to be a track."
MSG_MEMBERS = "That video is for channel members only."
MSG_EMPTY = "Give me a link or some words to search for."
MSG_QUERY_TOO_LONG = "That search is too long."
MSG_CLOSED = "The extractor is shut down."
MSG_LOCAL_PATH = "I only play links from the web, not files on the bot's computer."
MSG_NO_LIBRARY = "This bot has no local music library (the owner sets MUSIC_DIR)."

# (needle in yt-dlp's lower-cased error text, error class, user message): first match wins.
_ERROR_RULES: tuple[tuple[str, type[ExtractionError], str], ...] = (
    ("confirm you're not a bot", ExtractionError, MSG_BOT_CHECK),
    ("confirm you\u2019re not a bot", ExtractionError, MSG_BOT_CHECK),
    ("not a bot", ExtractionError, MSG_BOT_CHECK),
    ("confirm your age", ExtractionError, MSG_AGE),
    ("age-restricted", ExtractionError, MSG_AGE),
    ("age restricted", ExtractionError, MSG_AGE),
    ("channel's members", ExtractionError, MSG_MEMBERS),
    ("members-only", ExtractionError, MSG_MEMBERS),
    ("private video", ExtractionError, MSG_PRIVATE),
    ("video is private", ExtractionError, MSG_PRIVATE),
    ("available in your country", ExtractionError, MSG_GEO),
    ("not available from your location", ExtractionError, MSG_GEO),
    ("geo restrict", ExtractionError, MSG_GEO),
    ("geo-restrict", ExtractionError, MSG_GEO),
    ("unsupported url", ExtractionError, MSG_UNSUPPORTED),
    ("no suitable extractor", ExtractionError, MSG_UNSUPPORTED),
    ("drm protected", ExtractionError, MSG_DRM),
    ("drm-protected", ExtractionError, MSG_DRM),
    ("live event will begin", ExtractionError, MSG_NOT_STARTED),
    ("premieres in", ExtractionError, MSG_NOT_STARTED),
    ("requested format is not available", ExtractionError, MSG_NO_AUDIO),
    ("timed out", ExtractionTimeout, MSG_TIMEOUT),
    # The egress proxy answers every refused or failed connection with the same 502, so a refused
    # internal address and a closed port read alike.
    ("502: bad gateway", ExtractionError, MSG_UNREACHABLE),
    ("502 bad gateway", ExtractionError, MSG_UNREACHABLE),
    ("unable to connect to proxy", ExtractionError, MSG_UNREACHABLE),
    ("http error 403", ExtractionError, MSG_FORBIDDEN),
    ("connection refused", ExtractionError, MSG_UNREACHABLE),
    ("name or service not known", ExtractionError, MSG_UNREACHABLE),
    ("nodename nor servname", ExtractionError, MSG_UNREACHABLE),
    ("temporary failure in name resolution", ExtractionError, MSG_UNREACHABLE),
    ("video unavailable", ExtractionError, MSG_UNAVAILABLE),
    ("has been removed", ExtractionError, MSG_UNAVAILABLE),
    ("http error 404", ExtractionError, MSG_UNAVAILABLE),
    ("does not exist", ExtractionError, MSG_UNAVAILABLE),
    ("unable to download webpage", ExtractionError, MSG_UNAVAILABLE),
)


def error_from_ytdlp(exc: Exception) -> BrentError:
    """A short user message for a yt-dlp failure; yt-dlp's own text (URLs, IPs) stays in ``detail``."""
    cause: BaseException = exc
    if isinstance(exc, DownloadError) and exc.exc_info and exc.exc_info[1] is not None:
        cause = exc.exc_info[1]
    if isinstance(cause, BrentError):
        return cause
    detail = str(exc)
    if isinstance(cause, GeoRestrictedError):
        return ExtractionError(MSG_GEO, detail=detail)
    if isinstance(cause, UnsupportedError):
        return ExtractionError(MSG_UNSUPPORTED, detail=detail)
    lowered = detail.lower()
    for needle, error_type, message in _ERROR_RULES:
        if needle in lowered:
            return error_type(message, detail=detail)
    return ExtractionError(MSG_GENERIC, detail=detail)
