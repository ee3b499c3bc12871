"""The systemd unit (a user unit by default, a system unit with ``--system``) and the systemctl calls.

A user unit runs as the installing user and starts at boot once lingering is on (``loginctl
enable-linger``); a system unit runs as ``User=`` (the owner of the project folder). The sandboxing
in a user unit needs unprivileged user namespaces, and the egress rule (IPAddressDeny) is a cgroup
BPF program only the system manager can attach: use ``--system`` for it to be enforced.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from deploy.config import ServiceConfig, ServiceError
from deploy.egress import EgressRule
from deploy.state import ServiceState
from deploy.template import fill

SYSTEM_UNITS = Path("/etc/systemd/system")
_PLAIN = re.compile(r"[A-Za-z0-9/_.,:+@=-]+")


def escape(value: str) -> str:
    """One word of a unit file: specifiers (%) doubled, quoted when it holds anything else."""
    if "\n" in value or "\r" in value:
        raise ServiceError(f"a path with a line break cannot go into a unit file: {value!r}")
    value = value.replace("%", "%%").replace("$", "$$")
    if _PLAIN.fullmatch(value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_unit(config: ServiceConfig, rule: EgressRule, *, system: bool) -> str:
    if system and not config.run_as:
        raise ServiceError("a system unit needs the user to run as")
    egress: list[str] = []
    if rule.deny:
        egress = [
            "# Egress: no loopback, private, CGNAT or link-local address except the ones the bot needs",
            "# (deploy/egress.py explains each). Enforced only in a system unit.",
            "IPAddressDeny=" + " ".join(str(n) for n in rule.deny),
            "IPAddressAllow=" + " ".join(str(a) for a in rule.allow),
        ]
    text = fill(
        "systemd.service",
        {
            "name": config.name,
            "project_comment": str(config.project).replace("%", "%%"),
            "network_lines": "Wants=network-online.target\nAfter=network-online.target" if system else "",
            "user_line": f"User={escape(config.run_as or '')}" if system else "",
            "project": str(config.project).replace("%", "%%"),
            "exec_start": f"{escape(str(config.python))} {escape(str(config.main))}",
            "read_write_paths": " ".join(escape(str(p)) for p in config.writable_dirs),
            "memory_max": config.memory_max,
            "egress_lines": "\n".join(egress),
            "wanted_by": "multi-user.target" if system else "default.target",
        },
    )
    return re.sub(r"\n{3,}", "\n\n", text)


@dataclass(frozen=True, slots=True)
class Systemd:
    config: ServiceConfig
    system: bool

    @property
    def unit(self) -> str:
        return f"{self.config.name}.service"

    @property
    def unit_path(self) -> Path:
        if self.system:
            return SYSTEM_UNITS / self.unit
        config_home = os.environ.get("XDG_CONFIG_HOME") or str(self.config.home / ".config")
        return Path(config_home) / "systemd" / "user" / self.unit

    def describe(self) -> str:
        return f"systemd {'system' if self.system else 'user'} unit {self.unit_path}"

    def install(self, rule: EgressRule) -> list[str]:
        if shutil.which("systemctl") is None or not Path("/run/systemd/system").is_dir():
            raise ServiceError(
                "systemd is not running on this machine (a container?): use the container "
                "image (see README) or start `python main.py` from your init system"
            )
        if self.system and os.geteuid() != 0:
            raise ServiceError("installing a system unit needs root: sudo bin/service install --system")
        self.unit_path.parent.mkdir(parents=True, exist_ok=True)
        self.unit_path.write_text(render_unit(self.config, rule, system=self.system), encoding="utf-8")
        self._systemctl("daemon-reload")
        self._systemctl("enable", self.unit)
        self._systemctl("restart", self.unit)
        notes = list(rule.notes)
        if not self.system:
            user = os.environ.get("USER") or self.config.home.name
            linger = subprocess.run(["loginctl", "enable-linger", user], capture_output=True, text=True)
            if linger.returncode != 0:
                notes.append(
                    f"could not turn on lingering, so BRENT starts only once {user} logs in: "
                    f"sudo loginctl enable-linger {user}"
                )
            notes.append("the egress rule is enforced only in a system unit (bin/service install --system)")
        return notes

    def uninstall(self) -> None:
        self._systemctl("disable", "--now", self.unit, check=False)
        self.unit_path.unlink(missing_ok=True)
        self._systemctl("daemon-reload", check=False)

    def start(self) -> None:
        self._systemctl("start", self.unit)

    def stop(self) -> None:
        self._systemctl("stop", self.unit)

    def restart(self) -> None:
        self._systemctl("restart", self.unit)

    def state(self) -> ServiceState:
        if not self.unit_path.exists():
            return ServiceState(installed=False, running=False)
        shown = self._systemctl(
            "show", self.unit, "-p", "ActiveState,SubState,MainPID,NRestarts", check=False
        ).stdout
        values = dict(line.split("=", 1) for line in shown.splitlines() if "=" in line)
        pid = int(values.get("MainPID", "0") or 0)
        detail = (
            f"{values.get('ActiveState', 'unknown')} ({values.get('SubState', '?')}), "
            f"restarted {values.get('NRestarts', '?')} times"
        )
        return ServiceState(
            installed=True, running=values.get("ActiveState") == "active", pid=pid or None, detail=detail
        )

    def output_hint(self) -> str:
        return f"journalctl {'' if self.system else '--user '}-u {self.unit}"

    def _systemctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = ["systemctl", *([] if self.system else ["--user"]), *args]
        done = subprocess.run(command, capture_output=True, text=True)
        if check and done.returncode != 0:
            raise ServiceError(f"`{' '.join(command)}` failed: {done.stderr.strip() or done.returncode}")
        return done
