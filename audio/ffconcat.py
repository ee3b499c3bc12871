"""The ffconcat script that has a waiting ffmpeg open a stream as TimedAudio's own argv would.

A standby process (:mod:`audio.ffmpeg_standby`) reads its input from an ffconcat script on stdin.
What the script can express decides when a stream may use a standby (otherwise ``take`` returns
None and the caller spawns a fresh ffmpeg as before):

* The script is line based with no escape for CR, LF or NUL, so a URL or header value holding one
  cannot be written faithfully: fresh spawn. Nor can an empty option value (``''`` is refused as
  "string required"), so an empty User-Agent or Referer also means fresh spawn.
* For the same reason ``headers`` can carry one header line only (ffmpeg appends its CRLF, and
  logs a warning that it did). User-Agent and Referer have their own http options
  (``user_agent``, ``referer``). yt-dlp adds its generic browser headers (``std_headers``:
  Accept, Accept-Language, Sec-Fetch-Mode) to every format; they are dropped here because
  ffmpeg's request already sends ``Accept: */*`` and media servers ignore the other two, while
  site-specific headers (an Origin, an auth token) are what a server really checks. One such
  header fits in ``headers``; two or more means fresh spawn, so nothing a site needs is lost.
* Header names and dropped headers follow :func:`audio.timed_audio.header_block` (HTTP tokens only;
  never Cookie, Range, Host or Content-Length).
* Live streams keep the fresh path: the concat demuxer's timestamp bookkeeping is built for files
  with an end, and a live stream's first 70 ms are not worth that risk.
"""

from __future__ import annotations

import re
from dataclasses import replace

from audio.ffmpeg_args import DEFAULT_RW_TIMEOUT, PROTOCOL_WHITELIST, format_whitelist, forwardable_headers
from audio.track import Stream

_UNWRITABLE = re.compile(r"[\r\n\x00]")
# yt-dlp's std_headers (yt_dlp.utils.networking) minus User-Agent, which has its own option.
_GENERIC_HEADERS = frozenset({"accept", "accept-language", "sec-fetch-mode"})
_OPTION_HEADERS = {"user-agent": "user_agent", "referer": "referer"}


def ffconcat_quote(value: str) -> str:
    """``value`` as one av_get_token token: single-quoted, a ``'`` becomes ``'\\''``."""
    return "'" + value.replace("'", "'\\''") + "'"


def concat_script(stream: Stream, *, rw_timeout: float = DEFAULT_RW_TIMEOUT) -> str | None:
    """The ffconcat script that opens ``stream`` like TimedAudio's fresh argv does, or None if it can't."""
    if stream.is_live or _UNWRITABLE.search(stream.url):
        return None
    if not stream.url.lower().startswith(("http://", "https://")):
        return None  # TimedAudio refuses these before asking; the fresh path reports it
    options: dict[str, str] = {}
    extra: list[str] = []
    for name, text in forwardable_headers(stream.http_headers):
        if _UNWRITABLE.search(text):
            return None
        key = name.lower()
        if key in _GENERIC_HEADERS:
            continue
        if key in _OPTION_HEADERS:
            if _OPTION_HEADERS[key] in options or not text.strip():
                # The same header twice (not ours to pick one), or empty: the script has no empty token.
                return None
            options[_OPTION_HEADERS[key]] = text.strip()
        else:
            extra.append(f"{name}: {text.strip()}")
    if len(extra) > 1:
        return None
    lines = [
        "ffconcat version 1.0",
        f"file {ffconcat_quote(stream.url)}",
        "option reconnect 1",
        "option reconnect_streamed 1",
        "option reconnect_delay_max 5",
        f"option rw_timeout {int(rw_timeout * 1_000_000)}",
        f"option protocol_whitelist {PROTOCOL_WHITELIST}",
        f"option format_whitelist {format_whitelist(stream)}",
    ]
    lines += [f"option {option} {ffconcat_quote(value)}" for option, value in options.items()]
    if extra:
        lines.append(f"option headers {ffconcat_quote(extra[0])}")
    return "\n".join(lines) + "\n"


def generic_request(stream: Stream) -> Stream:
    """``stream`` without yt-dlp's generic request headers, User-Agent included: the request an
    opened-ahead process makes, if the stream needs nothing more."""
    kept = {
        name: value
        for name, value in stream.http_headers.items()
        if name.lower() not in _GENERIC_HEADERS and name.lower() != "user-agent"
    }
    return replace(stream, http_headers=kept)
