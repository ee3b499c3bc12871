"""``python main.py --health``: ask the running bot, print one line, exit 0 only when it is healthy.

The data folder comes from the same settings the bot reads (DATA_DIR in the env file or the
environment, relative to the working directory), so run it where the bot runs: the container's
HEALTHCHECK and ``bin/service status`` do. Nothing here needs the token or the network.
"""

from __future__ import annotations

import socket
import sys
from pathlib import Path
from typing import IO

from bot.health.report import MAX_LINE, HealthReport, socket_path
from bot.settings import SettingsError, load_settings

TIMEOUT = 10.0
EXIT_HEALTHY = 0
EXIT_UNHEALTHY = 1
EXIT_CONFIG = 2


def ask(path: Path, timeout: float = TIMEOUT) -> HealthReport:
    if not path.exists():
        return HealthReport(False, f"BRENT is not running (no {path})")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect(str(path))
            data = b""
            while len(data) <= MAX_LINE + 8 and (chunk := sock.recv(4096)):
                data += chunk
        except (ConnectionRefusedError, FileNotFoundError):
            return HealthReport(False, f"BRENT is not running ({path} is left from an earlier run)")
        except PermissionError:
            return HealthReport(False, f"cannot open {path}: ask as the user BRENT runs as")
        except TimeoutError:
            return HealthReport(False, f"BRENT did not answer within {timeout:.0f} s (busy or stuck)")
        except OSError as exc:
            return HealthReport(False, f"cannot ask BRENT on {path}: {exc.strerror or exc}")
    return HealthReport.decode(data)


def run(env_file: Path, out: IO[str] = sys.stdout) -> int:
    try:
        settings = load_settings(env_file, require_token=False)
    except SettingsError as exc:
        print(f"brent: {exc}", file=out)
        return EXIT_CONFIG
    report = ask(socket_path(settings.data_dir))
    print(f"{'healthy' if report.healthy else 'unhealthy'}: {report.line}", file=out)
    return EXIT_HEALTHY if report.healthy else EXIT_UNHEALTHY
