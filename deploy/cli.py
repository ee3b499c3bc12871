"""``bin/service install|uninstall|start|stop|restart|status|logs``: BRENT under launchd or systemd.

macOS gets a LaunchAgent, Linux a systemd unit (a user unit unless ``--system``). ``status`` exits 0
when the service runs and answers ``--health``, 1 when it runs but is unhealthy, 3 when it is not
running (as systemd's own status does), 2 for a problem to fix first.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections import deque
from collections.abc import Sequence
from pathlib import Path

from bot.health.client import ask
from bot.health.report import socket_path
from deploy.config import DEFAULT_MEMORY_MAX, DEFAULT_NAME, ServiceConfig, ServiceError, load_config, owner_of
from deploy.egress import egress_rule
from deploy.launchd import Launchd
from deploy.systemd import Systemd

PROJECT = Path(__file__).resolve().parents[1]
COMMANDS = ("install", "uninstall", "start", "stop", "restart", "status", "logs")
EXIT_OK, EXIT_UNHEALTHY, EXIT_PROBLEM, EXIT_NOT_RUNNING = 0, 1, 2, 3


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bin/service",
        description="Run BRENT as a service that starts at login or boot and restarts after a crash.",
    )
    parser.add_argument("command", choices=COMMANDS)
    parser.add_argument(
        "--system",
        action="store_true",
        help="Linux, install: a system unit (needs root) "
        "instead of a user unit; it runs as the owner of the project folder or --run-as",
    )
    parser.add_argument("--run-as", metavar="USER", help="Linux, --system: the user the bot runs as")
    parser.add_argument(
        "--memory-max",
        default=DEFAULT_MEMORY_MAX,
        help=f"Linux: the unit's MemoryMax (default {DEFAULT_MEMORY_MAX})",
    )
    parser.add_argument(
        "--name", default=DEFAULT_NAME, help=f"service name, to run several bots (default {DEFAULT_NAME})"
    )
    parser.add_argument(
        "--manager", choices=("launchd", "systemd"), help="default: launchd on macOS, systemd on Linux"
    )
    parser.add_argument("-n", "--lines", type=int, default=40, help="status, logs: how many log lines")
    parser.add_argument("-f", "--follow", action="store_true", help="logs: keep printing new lines")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return run(args)
    except ServiceError as exc:
        print(f"service: {exc}", file=sys.stderr)
        return EXIT_PROBLEM


def run(args: argparse.Namespace) -> int:
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", args.name):
        raise ServiceError("--name takes letters, digits, - and _ only")
    home = Path.home()
    system = args.system or (
        args.command != "install" and (Path("/etc/systemd/system") / f"{args.name}.service").exists()
    )
    run_as = args.run_as or (owner_of(PROJECT) if system else None)
    if system and run_as == "root" and not args.run_as:
        raise ServiceError(
            "the project folder belongs to root, so the bot would run as root: make a user for it "
            "(useradd --system --create-home brent; chown -R brent the folder) or pass --run-as"
        )
    config = load_config(PROJECT, home=home, name=args.name, memory_max=args.memory_max, run_as=run_as)
    manager = _manager(args.manager, config, system)
    if args.command == "install":
        if isinstance(manager, Systemd):
            resolv = Path("/etc/resolv.conf")
            text = resolv.read_text(encoding="utf-8", errors="replace") if resolv.exists() else ""
            notes = manager.install(egress_rule(config.database_url, config.allow_private_network, text))
        else:
            notes = manager.install()
        for note in notes:
            print(f"service: note: {note}")
        print(
            f"service: installed {manager.describe()}; it starts now, at {'boot' if system else 'login'} and "
            "after a crash. `bin/service status` tells how it is doing."
        )
        return EXIT_OK
    if args.command == "logs":
        return show_logs(config, manager, args.lines, args.follow)
    if not manager.state().installed:
        if args.command == "uninstall":
            print("service: not installed")
            return EXIT_OK
        print("service: not installed; run bin/service install", file=sys.stderr)
        return EXIT_NOT_RUNNING
    if args.command == "status":
        return show_status(config, manager, args.lines)
    getattr(manager, args.command)()
    print(f"service: {args.command} done ({manager.describe()})")
    return EXIT_OK


def _manager(choice: str | None, config: ServiceConfig, system: bool) -> Launchd | Systemd:
    choice = choice or {"darwin": "launchd", "linux": "systemd"}.get(sys.platform)
    if choice == "launchd":
        return Launchd(config)
    if choice == "systemd":
        return Systemd(config, system=system)
    raise ServiceError(f"no service manager for {sys.platform}: start `python main.py` from your own")


def show_status(config: ServiceConfig, manager: Launchd | Systemd, lines: int) -> int:
    state = manager.state()
    pid = f", pid {state.pid}" if state.pid else ""
    print(f"{manager.describe()}: {'running' if state.running else 'not running'}{pid}; {state.detail}")
    health = ask(socket_path(config.data_dir))
    print(f"{'healthy' if health.healthy else 'unhealthy'}: {health.line}")
    log = config.logs_dir / "brent.log"
    print(
        f"--- last {lines} lines of {log} (more: bin/service logs; the service's own output: "
        f"{manager.output_hint()}) ---"
    )
    print("".join(tail(log, lines)), end="")
    if not state.running:
        return EXIT_NOT_RUNNING
    return EXIT_OK if health.healthy else EXIT_UNHEALTHY


def show_logs(config: ServiceConfig, manager: Launchd | Systemd, lines: int, follow: bool) -> int:
    log = config.logs_dir / "brent.log"
    print(f"--- {log} (the service's own output: {manager.output_hint()}) ---", flush=True)
    if follow:
        os.execvp("tail", ["tail", "-n", str(lines), "-F", str(log)])
    print("".join(tail(log, lines)), end="")
    return EXIT_OK


def tail(path: Path, lines: int) -> list[str]:
    if not path.exists():
        return [f"(no {path} yet)\n"]
    with path.open(encoding="utf-8", errors="replace") as file:
        return list(deque(file, maxlen=max(lines, 0)))
