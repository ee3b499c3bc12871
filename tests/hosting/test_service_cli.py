"""``bin/service`` end to end on the launchd path, with a stand-in ``launchctl`` on PATH.

launchctl exists only on macOS; the stand-in records each call, keeps "loaded" in a file and
refuses what launchd refuses (a bootstrap of a loaded job, a plist that does not parse), so the
order of calls the real one needs is what is checked. On this machine systemd is not running, which
``install`` must say instead of writing a unit that nothing loads.
"""

from __future__ import annotations

import json
import os
import plistlib
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
SERVICE = PROJECT / "bin" / "service"

LAUNCHCTL = """#!{python}
import json, os, pathlib, plistlib, sys
state = pathlib.Path(os.environ["FAKE_LAUNCHCTL_STATE"])
with open(os.environ["FAKE_LAUNCHCTL_LOG"], "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
command = sys.argv[1]
if command == "print":
    if not state.exists():
        sys.exit(113)
    print("gui/0/local.brent = {{\\n\\tstate = running\\n\\tpid = 4242\\n\\tlast exit code = (never exited)\\n}}")
elif command == "bootstrap":
    if state.exists():
        sys.exit(5)
    plistlib.loads(pathlib.Path(sys.argv[3]).read_bytes())
    state.write_text(sys.argv[3])
elif command == "bootout":
    state.unlink(missing_ok=True)
"""


@pytest.fixture
def launchd_env(tmp_path: Path) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    launchctl = bin_dir / "launchctl"
    launchctl.write_text(LAUNCHCTL.format(python=sys.executable))
    launchctl.chmod(0o755)
    home = tmp_path / "home"
    home.mkdir()
    return {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "HOME": str(home),
        "FAKE_LAUNCHCTL_STATE": str(tmp_path / "loaded"),
        "FAKE_LAUNCHCTL_LOG": str(tmp_path / "calls.jsonl"),
    }


def service(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SERVICE), *args, "--manager", "launchd"], capture_output=True, text=True, env=env, timeout=60
    )


def calls(env: dict[str, str]) -> list[list[str]]:
    path = Path(env["FAKE_LAUNCHCTL_LOG"])
    found = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
    path.unlink(missing_ok=True)
    return [c for c in found if c[0] != "print"]  # looks at the state are not actions


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX shell script")
def test_install_status_stop_start_restart_uninstall_through_launchctl(launchd_env: dict[str, str]) -> None:
    uid = os.getuid()
    target = f"gui/{uid}/local.brent"
    plist = Path(launchd_env["HOME"]) / "Library" / "LaunchAgents" / "local.brent.plist"

    done = service(launchd_env, "install")
    assert done.returncode == 0, done.stderr
    assert calls(launchd_env) == [["enable", target], ["bootstrap", f"gui/{uid}", str(plist)]]
    assert plistlib.loads(plist.read_bytes())["WorkingDirectory"] == str(PROJECT)

    done = service(launchd_env, "status", "-n", "3")
    assert done.stdout.splitlines()[0] == (
        f"LaunchAgent {plist}: running, pid 4242; launchd state running, last exit code (never exited)"
    )
    assert done.stdout.splitlines()[1].startswith(
        "unhealthy: BRENT is not running"
    )  # no bot behind the stand-in
    assert done.returncode == 1

    assert service(launchd_env, "install").returncode == 0  # again: unloads first, or bootstrap would fail
    assert calls(launchd_env) == [
        ["bootout", target],
        ["enable", target],
        ["bootstrap", f"gui/{uid}", str(plist)],
    ]

    assert service(launchd_env, "stop").returncode == 0
    assert calls(launchd_env) == [["bootout", target]]
    done = service(launchd_env, "status")
    assert done.returncode == 3 and ": not running; not loaded (stopped)" in done.stdout.splitlines()[0]

    assert service(launchd_env, "start").returncode == 0
    assert calls(launchd_env) == [["bootstrap", f"gui/{uid}", str(plist)]]
    assert service(launchd_env, "restart").returncode == 0
    assert calls(launchd_env) == [["kickstart", "-k", target]]

    assert service(launchd_env, "uninstall").returncode == 0
    assert calls(launchd_env) == [["bootout", target]]
    assert not plist.exists()
    done = service(launchd_env, "status")
    assert (done.returncode, done.stderr.strip()) == (3, "service: not installed; run bin/service install")


@pytest.mark.skipif(Path("/run/systemd/system").is_dir(), reason="systemd runs here: install would be real")
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="systemd is Linux-only")
def test_install_without_a_running_systemd_says_so_and_writes_nothing(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    done = subprocess.run([str(SERVICE), "install"], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 2
    assert done.stderr.startswith("service: systemd is not running on this machine"), done.stderr
    assert not (tmp_path / ".config").exists()
