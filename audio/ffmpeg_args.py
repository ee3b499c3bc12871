"""The ffmpeg argv for a stream, built as a list and never through a shell: stream URLs and header
values come from yt-dlp (a remote site) and must not be able to become ffmpeg flags.

Fresh ffmpeg (``TimedAudio``), the standby's concat script and ffprobe all take their input options
from here, so the protocol and format rules are written once; so do both spawn paths take the
priority ffmpeg runs at (:func:`yield_to_voice`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
from collections.abc import Mapping

from audio.track import Stream

log = logging.getLogger(__name__)

DEFAULT_RW_TIMEOUT = 15.0  # seconds without a byte before ffmpeg gives up on a connection
# httpproxy: how ffmpeg's https reaches the egress proxy (CONNECT); see audio/egress_proxy.py.
PROTOCOL_WHITELIST = "http,https,tls,tcp,crypto,httpproxy"
# What a link is played as: an audio file is only ever one of these containers, so a server that
# answers ffmpeg with a playlist (HLS, ffconcat) behind a ".mp3" gets nowhere. Playlists are for
# the streaming sites that use them (Stream.manifest), whose segments pass the egress proxy too.
AUDIO_DEMUXERS = "mp3,ogg,mov,aac,flac,wav,matroska"
MANIFEST_DEMUXERS = AUDIO_DEMUXERS + ",hls,mpegts,dash"

# ffmpeg decodes ahead into its pipe (64 KiB: a third of a second of PCM, more of Opus) and can wait
# a moment; a voice clock that waits is heard as a late packet in every guild it serves. So the
# decoders run a little behind the bot for the CPU; raising one's own niceness needs no privilege.
FFMPEG_NICENESS = 5

_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")  # RFC 9110 token
_UNSAFE_VALUE_CHARS = re.compile(r"[\r\n\x00]")
# Never forwarded: cookies leak across hosts (CVE-2023-35934), Range would fight -ss.
_DROPPED_HEADERS = frozenset({"cookie", "range", "host", "content-length"})


def forwardable_headers(headers: Mapping[str, str]) -> list[tuple[str, str]]:
    """The headers ffmpeg may send: names that are HTTP tokens, never Cookie/Range/Host/Content-Length.

    Values are returned as given (as str); each caller decides what to do with CR/LF/NUL in them.
    """
    kept: list[tuple[str, str]] = []
    for name, value in headers.items():
        if not isinstance(name, str) or not _HEADER_NAME.match(name) or name.lower() in _DROPPED_HEADERS:
            log.debug("dropping header %r", name)
            continue
        kept.append((name, str(value)))
    return kept


def header_block(headers: Mapping[str, str]) -> str:
    """The ``-headers`` value: one ``Name: value`` per line, CRLF-terminated.

    Names that are not HTTP tokens are dropped and CR/LF/NUL are removed from values, so a
    hostile info dict cannot inject extra headers or split the request.
    """
    lines: list[str] = []
    for name, value in forwardable_headers(headers):
        clean = _UNSAFE_VALUE_CHARS.sub("", value).strip()
        lines.append(f"{name}: {clean}\r\n")
    return "".join(lines)


def format_whitelist(stream: Stream) -> str:
    """The demuxers ffmpeg may use for ``stream`` (``-format_whitelist``)."""
    return MANIFEST_DEMUXERS if stream.manifest else AUDIO_DEMUXERS


def format_offset(seconds: float) -> str:
    """The ``-ss`` value; we format the number ourselves so no user text reaches ffmpeg."""
    return f"{seconds:.3f}"


def ffmpeg_input_args(stream: Stream, *, start: float, rw_timeout: float = DEFAULT_RW_TIMEOUT) -> list[str]:
    """Everything that goes before (and including) ``-i <url>``."""
    args = [
        "-nostdin",
        "-reconnect", "1",
        "-reconnect_streamed", "1",
        "-reconnect_delay_max", "5",
        "-protocol_whitelist", PROTOCOL_WHITELIST,
        "-format_whitelist", format_whitelist(stream),
        "-rw_timeout", str(int(rw_timeout * 1_000_000)),
    ]  # fmt: skip
    if start > 0:
        args += ["-ss", format_offset(start)]
    headers = header_block(stream.http_headers)
    if headers:
        args += ["-headers", headers]
    args += ["-i", stream.url]
    return args


def ffmpeg_output_args(blocksize: int, *, graph: str | None = None) -> list[str]:
    """Raw PCM in the one format discord.py's Opus encoder accepts, on stdout; ``graph`` is an
    :meth:`audio.filters.Filters.graph` (one argv item, numbers only we formatted)."""
    effects = ["-af", graph] if graph else []
    return [
        "-vn",
        *effects,
        "-f", "s16le",
        "-ar", "48000",
        "-ac", "2",
        "-loglevel", "warning",
        "-blocksize", str(blocksize),
        "pipe:1",
    ]  # fmt: skip


def opus_copy_args() -> list[str]:
    """The stream's own Opus packets, copied into Ogg on stdout: one packet a page, each page
    written at once (the muxer's default gathers a second of packets per page)."""
    return [
        "-vn",
        "-map", "0:a:0",
        "-c:a", "copy",
        "-f", "ogg",
        "-page_duration", "20000",
        "-flush_packets", "1",
        "-loglevel", "warning",
        "pipe:1",
    ]  # fmt: skip


def yield_to_voice(pid: int) -> None:
    """Run ffmpeg process ``pid`` at :data:`FFMPEG_NICENESS` (POSIX; a no-op elsewhere)."""
    setpriority = getattr(os, "setpriority", None)
    if setpriority is not None:
        with contextlib.suppress(OSError):  # it already exited
            setpriority(os.PRIO_PROCESS, pid, FFMPEG_NICENESS)
