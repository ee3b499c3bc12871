"""The macOS LaunchAgent (~/Library/LaunchAgents) and the launchctl calls, in the gui/<uid> domain.

An agent runs while its user is logged in: it starts at login (RunAtLoad) and after a crash
(KeepAlive, SuccessfulExit false). ``stop`` boots it out, so it stays stopped until the next login
or ``start``. launchd does not rotate the file it writes the bot's console to (logs/launchd.log),
so ``install``, ``start`` and ``restart`` move it aside once it is larger than CONSOLE_LOG_MAX.
"""

from __future__ import annotations

import os
import plistlib
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from deploy.config import ServiceConfig, ServiceError
from deploy.state import ServiceState
from deploy.template import fill

CONSOLE_LOG = "launchd.log"
CONSOLE_LOG_MAX = 10 * 1024 * 1024
# macOS keeps background services out of these folders (Operation not permitted) unless the python
# binary is given Full Disk Access.
PROTECTED = ("Desktop", "Documents", "Downloads", "Library/Mobile Documents")
UNLOAD_WAIT = 10.0


def render_plist(config: ServiceConfig) -> str:
    text = fill(
        "launchd.plist",
        {
            "label": escape(label(config)),
            "python": escape(str(config.python)),
            "main": escape(str(config.main)),
            "project": escape(str(config.project)),
            "console_log": escape(str(config.logs_dir / CONSOLE_LOG)),
        },
    )
    plistlib.loads(text.encode())  # a value that broke the XML fails here, not in launchctl
    return text


def label(config: ServiceConfig) -> str:
    return f"local.{config.name}"


@dataclass(frozen=True, slots=True)
class Launchd:
    config: ServiceConfig

    @property
    def plist_path(self) -> Path:
        return self.config.home / "Library" / "LaunchAgents" / f"{label(self.config)}.plist"

    @property
    def domain(self) -> str:
        return f"gui/{os.getuid()}"

    @property
    def target(self) -> str:
        return f"{self.domain}/{label(self.config)}"

    def describe(self) -> str:
        return f"LaunchAgent {self.plist_path}"

    def install(self) -> list[str]:
        notes = []
        for folder in PROTECTED:
            if self.config.project.is_relative_to(self.config.home / folder):
                notes.append(
                    f"macOS does not let background services read ~/{folder}: move the project "
                    f"(e.g. to ~/brent) or give {self.config.python} Full Disk Access"
                )
        self.plist_path.parent.mkdir(parents=True, exist_ok=True)
        self.config.logs_dir.mkdir(parents=True, exist_ok=True)
        self.plist_path.write_text(render_plist(self.config), encoding="utf-8")
        if self._loaded():
            self._bootout()
        self._launchctl("enable", self.target)
        self._bootstrap()
        return notes

    def uninstall(self) -> None:
        if self._loaded():
            self._bootout()
        self.plist_path.unlink(missing_ok=True)

    def start(self) -> None:
        if self._loaded():
            self._launchctl("kickstart", self.target)
        else:
            self._bootstrap()

    def stop(self) -> None:
        if self._loaded():
            self._bootout()

    def restart(self) -> None:
        if self._loaded():
            self._rotate_console_log()
            self._launchctl("kickstart", "-k", self.target)
        else:
            self._bootstrap()

    def state(self) -> ServiceState:
        if not self.plist_path.exists():
            return ServiceState(installed=False, running=False)
        printed = self._launchctl("print", self.target, check=False)
        if printed.returncode != 0:
            return ServiceState(installed=True, running=False, detail="not loaded (stopped)")
        fields = dict(re.findall(r"^\s*([a-z ]+?) = (.+)$", printed.stdout, re.MULTILINE))
        pid = int(fields["pid"]) if fields.get("pid", "").isdigit() else None
        detail = f"launchd state {fields.get('state', 'unknown')}, last exit code {fields.get('last exit code', 'none')}"
        return ServiceState(installed=True, running=fields.get("state") == "running", pid=pid, detail=detail)

    def output_hint(self) -> str:
        return str(self.config.logs_dir / CONSOLE_LOG)

    def _bootstrap(self) -> None:
        self._rotate_console_log()
        self._launchctl("bootstrap", self.domain, str(self.plist_path))

    def _bootout(self) -> None:
        """Unload, then wait until launchd has let go: a bootstrap right after fails otherwise."""
        self._launchctl("bootout", self.target, check=False)
        deadline = time.monotonic() + UNLOAD_WAIT
        while self._loaded():
            if time.monotonic() > deadline:
                raise ServiceError(
                    f"launchd still has {self.target} loaded {UNLOAD_WAIT:.0f} s after bootout"
                )
            time.sleep(0.2)

    def _loaded(self) -> bool:
        return self._launchctl("print", self.target, check=False).returncode == 0

    def _rotate_console_log(self) -> None:
        path = self.config.logs_dir / CONSOLE_LOG
        if path.exists() and path.stat().st_size > CONSOLE_LOG_MAX:
            path.replace(path.with_name(CONSOLE_LOG + ".1"))

    def _launchctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(["launchctl", *args], capture_output=True, text=True)
        if check and done.returncode != 0:
            raise ServiceError(
                f"`launchctl {' '.join(args)}` failed: {done.stderr.strip() or done.returncode}"
            )
        return done
