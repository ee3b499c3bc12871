"""The one yt-dlp wrapper: user text in, frozen ``Track`` / ``Stream`` out (docs/architecture.md).

Callers import from here, not from the modules, so the work can move between them.
"""

from audio.extractor.config import ExtractorConfig
from audio.extractor.extractor import DEADLINE_GRACE, MAX_SEARCH_RESULTS, Extractor
from audio.extractor.fresh_streams import HANDED_STREAM_EXPIRY_MARGIN, HANDED_STREAM_FRESHNESS
from audio.extractor.info import stream_from_info, track_from_info, tracks_from_info
from audio.extractor.jobs import ExtractJob, JobFailure, JobKind, JobResult, probe_duration, run_job
from audio.extractor.messages import (
    MSG_AGE,
    MSG_BOT_CHECK,
    MSG_CLOSED,
    MSG_DRM,
    MSG_EMPTY,
    MSG_FORBIDDEN,
    MSG_GENERIC,
    MSG_GEO,
    MSG_LOCAL_PATH,
    MSG_MEMBERS,
    MSG_NO_AUDIO,
    MSG_NOT_AUDIO_FILE,
    MSG_NOT_STARTED,
    MSG_NOTHING,
    MSG_PRIVATE,
    MSG_QUERY_TOO_LONG,
    MSG_TIMEOUT,
    MSG_TOO_LARGE,
    MSG_UNAVAILABLE,
    MSG_UNREACHABLE,
    MSG_UNSUPPORTED,
    error_from_ytdlp,
)
from audio.extractor.query import MAX_QUERY_LENGTH
from audio.extractor.ytdl import MAX_RESPONSE_BYTES, allowed_extractors_for, warm_worker, ytdl_options

__all__ = [
    "DEADLINE_GRACE",
    "HANDED_STREAM_EXPIRY_MARGIN",
    "HANDED_STREAM_FRESHNESS",
    "MAX_QUERY_LENGTH",
    "MAX_RESPONSE_BYTES",
    "MAX_SEARCH_RESULTS",
    "MSG_AGE",
    "MSG_BOT_CHECK",
    "MSG_CLOSED",
    "MSG_DRM",
    "MSG_EMPTY",
    "MSG_FORBIDDEN",
    "MSG_GENERIC",
    "MSG_GEO",
    "MSG_LOCAL_PATH",
    "MSG_MEMBERS",
    "MSG_NO_AUDIO",
    "MSG_NOT_AUDIO_FILE",
    "MSG_NOT_STARTED",
    "MSG_NOTHING",
    "MSG_PRIVATE",
    "MSG_QUERY_TOO_LONG",
    "MSG_TIMEOUT",
    "MSG_TOO_LARGE",
    "MSG_UNAVAILABLE",
    "MSG_UNREACHABLE",
    "MSG_UNSUPPORTED",
    "ExtractJob",
    "Extractor",
    "ExtractorConfig",
    "JobFailure",
    "JobKind",
    "JobResult",
    "allowed_extractors_for",
    "error_from_ytdlp",
    "probe_duration",
    "run_job",
    "stream_from_info",
    "track_from_info",
    "tracks_from_info",
    "warm_worker",
    "ytdl_options",
]
