"""Room for the descriptors many voice connections need.

Each playing server holds about five (its voice UDP socket, ffmpeg's pipe, the egress proxy's two
ends of the media connection, the voice websocket), so the soft limit a shell hands out (256 on
macOS, often 1024 on Linux) would refuse new sockets at some 45 or 190 servers. The soft limit is
raised towards the hard one; macOS refuses values above its per-process maximum, hence the cap.
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)

WANTED = 10240  # macOS's OPEN_MAX; ~2000 servers playing


def raise_open_file_limit(wanted: int = WANTED) -> int | None:
    """Raise the soft RLIMIT_NOFILE to ``wanted`` (or the hard limit, if lower); never lowers it.

    Returns the soft limit in force, or None where there is no such limit (Windows).
    """
    try:
        import resource
    except ImportError:
        return None
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError) as exc:
            log.warning("could not raise the open-file limit from %d to %d: %s", soft, target, exc)
            return soft
        log.debug("open-file limit raised from %d to %d", soft, target)
        return target
    return soft
