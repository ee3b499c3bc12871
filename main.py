"""Run BRENT: ``python main.py`` (``--check`` to verify the machine, ``--health`` to ask the running bot,
``--env-file`` for another config).

Everything that can be checked offline (settings, token shape, libopus, ffmpeg) is checked before the
first network call, so a misconfigured bot stops at once with the fix instead of a traceback.
Exit codes: 0 stopped normally, 1 missing native dependency or unexpected crash, 2 configuration
(bad setting, missing/malformed token, token refused by Discord, privileged intents not enabled,
a database written by a newer BRENT). An unreachable database is not fatal: BRENT plays from memory.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING

import discord

from audio.errors import StoreError
from bot.settings import (
    DEFAULT_ENV_FILE,
    Settings,
    SettingsError,
    load_settings,
    permission_warning,
    shadowed_keys,
)

if TYPE_CHECKING:
    from bot.store import Store

log = logging.getLogger("brent")

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_CONFIG = 2
SECRET_VARIABLES = ("CLIENT_TOKEN", "DATABASE_URL")

TOKEN_REFUSED = (
    "Discord refused the token in CLIENT_TOKEN (it was reset, revoked or mistyped). Get a new one in the "
    "Discord Developer Portal: Applications > your app > Bot > Reset Token, then put it in credentials.env "
    "as CLIENT_TOKEN=<token>."
)
INTENTS_MISSING = (
    "Discord refused the connection because the bot's privileged intents are off. In the Discord Developer "
    "Portal: Applications > your app > Bot, enable MESSAGE CONTENT INTENT and SERVER MEMBERS INTENT, save, "
    "and start BRENT again."
)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="main.py", description="BRENT, a self-hosted Discord music bot.")
    parser.add_argument(
        "--check", action="store_true", help="check Python, discord.py, ffmpeg, libopus, yt-dlp and the token "
        "format without connecting, then exit"
    )
    parser.add_argument(
        "--health", action="store_true", help="ask the running BRENT whether it is connected, its voice clocks "
        "run and its store answers; exit 0 only if so"
    )
    parser.add_argument(
        "--env-file", type=Path, default=DEFAULT_ENV_FILE, metavar="PATH",
        help=f"settings file to read (default: {DEFAULT_ENV_FILE}); the environment overrides it",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.check:
        from bot.doctor import report, run_checks

        return report(run_checks(args.env_file), sys.stdout)
    if args.health:
        from bot.health import client

        return client.run(args.env_file)

    try:
        settings = load_settings(args.env_file)
    except SettingsError as exc:
        print(f"brent: {exc}", file=sys.stderr)
        return EXIT_CONFIG

    from bot.logging_config import configure_logging, open_ffmpeg_log
    from bot.native import NativeDependencyError, ffmpeg_version, find_ffmpeg, load_opus
    from bot.open_files import raise_open_file_limit

    configure_logging(settings)
    raise_open_file_limit()
    if warning := permission_warning(settings.env_file):
        log.warning("%s", warning)
    for key in shadowed_keys(settings.env_file):
        log.warning("%s is set both in the environment and in %s; the environment's value is used", key,
                    settings.env_file)
    for key in SECRET_VARIABLES:  # read once above; no child process (ffmpeg, lookup workers) inherits them
        os.environ.pop(key, None)
    try:
        load_opus(settings)
        ffmpeg = find_ffmpeg(settings)
    except NativeDependencyError as exc:
        log.error("%s Fix: %s", exc.problem, exc.fix)
        return EXIT_FAILURE
    log.info(
        "starting BRENT: discord.py %s, %s (%s)", discord.__version__, ffmpeg_version(ffmpeg) or "ffmpeg", ffmpeg
    )

    try:
        with open_ffmpeg_log(settings) as ffmpeg_log:
            asyncio.run(serve(settings, ffmpeg=ffmpeg, ffmpeg_stderr=ffmpeg_log.stderr))
    except discord.LoginFailure:
        log.error("%s", TOKEN_REFUSED)
        return EXIT_CONFIG
    except discord.PrivilegedIntentsRequired:
        log.error("%s", INTENTS_MISSING)
        return EXIT_CONFIG
    except StoreError as exc:  # SchemaTooNew, or a DATABASE_URL no backend accepts
        log.error("%s", exc.user_message)
        return EXIT_CONFIG
    except KeyboardInterrupt:  # platforms without loop signal handlers (Windows)
        log.info("interrupted; BRENT stopped")
        return EXIT_OK
    except Exception:
        log.exception("BRENT stopped because of an unexpected error")
        return EXIT_FAILURE
    log.info("BRENT stopped")
    return EXIT_OK


async def serve(settings: Settings, *, ffmpeg: str, ffmpeg_stderr: IO[bytes] | None) -> None:
    """Run the bot until it fails or SIGINT/SIGTERM asks it to stop; then close it in order.

    The store is opened here rather than in ``setup_hook`` so that a database written by a newer
    BRENT stops the process before it logs in. Shutdown order: final player snapshots and the
    state writer (Persistence.close), then players, extractor and store (BrentBot.close).
    """
    from bot.bot import create_bot
    from bot.health.report import socket_path
    from bot.persistence import Persistence

    assert settings.token is not None, "load_settings(require_token=True) guarantees a token"
    store = await open_configured_store(settings)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    installed = _install_signal_handlers(loop, stop)
    health_socket = None if sys.platform == "win32" else socket_path(settings.data_dir)
    bot = create_bot(settings, ffmpeg=ffmpeg, ffmpeg_stderr=ffmpeg_stderr, health_socket=health_socket)
    bot.store = store
    persistence = Persistence(bot, store) if store is not None else None
    try:
        async with bot:
            if persistence is not None:
                await bot.add_cog(persistence)
            try:
                # Everything built so far lives as long as the process; a full garbage collection
                # (every voice thread waits for it) then skips it, which keeps those pauses short.
                gc.collect()
                gc.freeze()
                runner = asyncio.create_task(bot.start(settings.token.reveal()), name="brent-bot")
                stopper = asyncio.create_task(stop.wait(), name="brent-stop")
                await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
                if runner.done():
                    stopper.cancel()
                    runner.result()  # LoginFailure and friends propagate to main()
                    return
                log.info("shutting down: saving player state, closing players, voice connections and the gateway")
                if persistence is not None:
                    await persistence.close()
                await bot.close()
                runner.cancel()
                # Whatever the interrupted login/connection raises on its way out no longer matters.
                await asyncio.gather(runner, return_exceptions=True)
            finally:
                if persistence is not None:
                    await persistence.close()
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


async def open_configured_store(settings: Settings) -> Store | None:
    """The store named by DATABASE_URL, or None (logged) when the database cannot be used right now.

    SchemaTooNew and a malformed URL propagate: running on would risk someone else's data.
    """
    from bot.store import DatabaseUnavailable, StoreLimits, open_store

    limits = StoreLimits(
        max_playlist_tracks=settings.max_playlist_tracks,
        max_guild_playlists=settings.max_guild_playlists,
        max_guild_playlist_tracks=settings.max_guild_playlist_tracks,
    )
    try:
        return await open_store(settings.database_url, settings.data_dir, limits=limits)
    except DatabaseUnavailable as exc:
        log.error(
            "The database is unavailable (%s); BRENT plays from memory without saving queues, and the "
            "playlist commands are off until it is restarted with a working database.", exc
        )
        return None


def _install_signal_handlers(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> list[signal.Signals]:
    """SIGINT/SIGTERM set ``stop`` once; a second signal then gets the default (immediate) behaviour."""
    installed: list[signal.Signals] = []

    def on_signal(sig: signal.Signals) -> None:
        log.info("received %s", sig.name)
        for each in installed:
            with contextlib.suppress(Exception):
                loop.remove_signal_handler(each)
        installed.clear()
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, on_signal, sig)
        except (NotImplementedError, RuntimeError):
            continue
        installed.append(sig)
    return installed


if __name__ == "__main__":
    sys.exit(main())
