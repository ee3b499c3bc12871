"""yt-dlp's errors as short user messages, and job results that keep their error type across processes."""

from __future__ import annotations

import pickle

import pytest
from yt_dlp.utils import DownloadError, ExtractorError, GeoRestrictedError, UnsupportedError

from audio.errors import ExtractionError, ExtractionTimeout, UrlRefused
from audio.extractor import (
    MSG_AGE,
    MSG_BOT_CHECK,
    MSG_DRM,
    MSG_GENERIC,
    MSG_GEO,
    MSG_MEMBERS,
    MSG_NOT_STARTED,
    MSG_PRIVATE,
    MSG_TIMEOUT,
    MSG_UNAVAILABLE,
    MSG_UNREACHABLE,
    MSG_UNSUPPORTED,
    ExtractJob,
    ExtractorConfig,
    JobKind,
    error_from_ytdlp,
    run_job,
)
from audio.url_policy import UrlPolicy


def _download_error(cause: Exception) -> DownloadError:
    """What YoutubeDL raises: the message plus the extractor's exception in exc_info."""
    return DownloadError(f"ERROR: {cause}", (type(cause), cause, None))


YT_ERRORS: list[tuple[Exception, str]] = [
    (
        ExtractorError(
            "[youtube] dQw4w9WgXcQ: Sign in to confirm you\u2019re not a bot. Use --cookies-from-browser or "
            "--cookies for the authentication. See  https://github.com/yt-dlp/yt-dlp/wiki/FAQ#how-do-i-pass-cookies-to-yt-dlp "
            " for how to manually pass cookies.",
            expected=True,
        ),
        MSG_BOT_CHECK,
    ),
    (
        ExtractorError(
            "[youtube] Aaaaaaaaaaa: Private video. Sign in if you've been granted access to this video",
            expected=True,
        ),
        MSG_PRIVATE,
    ),
    (
        ExtractorError(
            "[youtube] Aaaaaaaaaaa: Sign in to confirm your age. This video may be inappropriate for "
            "some users.",
            expected=True,
        ),
        MSG_AGE,
    ),
    (
        GeoRestrictedError(
            "The uploader has not made this video available in your country", countries=["DE"]
        ),
        MSG_GEO,
    ),
    (UnsupportedError("http://203.0.113.9/page"), MSG_UNSUPPORTED),
    (
        ExtractorError(
            "[youtube] Bbbbbbbbbbb: Video unavailable. This video has been removed by the uploader",
            expected=True,
        ),
        MSG_UNAVAILABLE,
    ),
    (
        ExtractorError("[youtube] jfKfPfyJRdk: This live event will begin in 3 hours.", expected=True),
        MSG_NOT_STARTED,
    ),
    (ExtractorError("[youtube] Ccccccccccc: This video is DRM protected", expected=True), MSG_DRM),
    (
        ExtractorError(
            "[soundcloud] 1523459876: Unable to download JSON metadata: HTTP Error 404: Not Found "
            "(caused by <HTTPError 404: Not Found>)"
        ),
        MSG_UNAVAILABLE,
    ),
    (
        ExtractorError(
            "[youtube] Ddddddddddd: Join this channel to get access to members-only content like this "
            "video, and other exclusive perks.",
            expected=True,
        ),
        MSG_MEMBERS,
    ),
    (
        ExtractorError(
            "[generic] tone: Unable to download webpage: <urlopen error [Errno 111] Connection refused> "
            "(caused by TransportError('[Errno 111] Connection refused'))"
        ),
        MSG_UNREACHABLE,
    ),
    (
        ExtractorError("[generic] x: something nobody anticipated at https://203.0.113.9/?ip=203.0.113.7"),
        MSG_GENERIC,
    ),
]


@pytest.mark.parametrize(("cause", "message"), YT_ERRORS, ids=[m for _, m in YT_ERRORS])
def test_yt_dlp_errors_get_distinct_short_messages(cause: Exception, message: str) -> None:
    for raised in (cause, _download_error(cause)):
        error = error_from_ytdlp(raised)
        assert isinstance(error, ExtractionError)
        assert error.user_message == message
        assert "http" not in error.user_message and "203.0.113" not in error.user_message
        assert str(cause.msg if hasattr(cause, "msg") else cause)[:20] in str(
            error
        )  # detail kept for the log


def test_socket_timeout_inside_yt_dlp_is_a_timeout() -> None:
    error = error_from_ytdlp(
        DownloadError("ERROR: [generic] tone: Unable to download webpage: The read operation timed out")
    )
    assert isinstance(error, ExtractionTimeout) and error.user_message == MSG_TIMEOUT


def test_job_results_survive_pickling_with_their_error_type() -> None:
    """A ProcessPoolExecutor pickles the job and its result both ways."""
    job = ExtractJob(JobKind.RESOLVE_ALL, "file:///etc/passwd", True, UrlPolicy(), ExtractorConfig())
    shipped = pickle.loads(pickle.dumps(job))
    assert (shipped.kind, shipped.text, shipped.config) == (job.kind, job.text, job.config)
    result = run_job(shipped)
    again = pickle.loads(pickle.dumps(result))
    assert again.failure is not None
    error = again.failure.to_error()
    assert type(error) is UrlRefused and error.user_message == result.failure.to_error().user_message
