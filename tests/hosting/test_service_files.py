"""The LaunchAgent plist and the systemd unit, rendered with a fake home and project, must parse.

The plist is read back with plistlib; the unit goes through ``systemd-analyze verify`` (which
complains on stderr about every unknown key or bad value) where it is installed, and through a
plain section/key parse everywhere.
"""

from __future__ import annotations

import ipaddress
import os
import plistlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from deploy.config import ServiceConfig, ServiceError, sqlite_file
from deploy.egress import DENIED, EgressRule, egress_rule
from deploy.launchd import render_plist
from deploy.systemd import escape, render_unit

ODD_NAME = "my bots & 100% <fun>"  # a space, XML and systemd specials


def fake_project(root: Path, name: str = "brent") -> Path:
    project = root / ODD_NAME / name
    (project / ".venv" / "bin").mkdir(parents=True)
    (project / ".venv" / "bin" / "python").symlink_to(sys.executable)
    (project / "main.py").write_text("")
    return project


def config_for(project: Path, home: Path, **changes: object) -> ServiceConfig:
    values: dict[str, object] = {
        "name": "brent",
        "project": project,
        "python": project / ".venv" / "bin" / "python",
        "home": home,
        "data_dir": project / "data",
        "database_url": "sqlite:///data/brent.db",
        "allow_private_network": False,
        "run_as": "daemon",
    }
    values.update(changes)
    return ServiceConfig(**values)  # type: ignore[arg-type]


def test_the_plist_starts_at_login_restarts_after_a_crash_and_logs_into_the_project(tmp_path: Path) -> None:
    project = fake_project(tmp_path)
    config = config_for(project, tmp_path / "home")
    plist = plistlib.loads(render_plist(config).encode())
    assert plist["Label"] == "local.brent"
    assert plist["ProgramArguments"] == [str(project / ".venv" / "bin" / "python"), str(project / "main.py")]
    assert plist["WorkingDirectory"] == str(project)
    assert plist["RunAtLoad"] is True
    assert plist["KeepAlive"] == {"SuccessfulExit": False}
    assert plist["ThrottleInterval"] == 30
    assert plist["StandardOutPath"] == plist["StandardErrorPath"] == str(project / "logs" / "launchd.log")
    assert plist["EnvironmentVariables"]["PATH"].startswith("/opt/homebrew/bin:")
    assert "CLIENT_TOKEN" not in render_plist(config)


def parse_unit(text: str) -> dict[str, list[tuple[str, str]]]:
    sections: dict[str, list[tuple[str, str]]] = {}
    current = None
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], [])
            continue
        key, sep, value = line.partition("=")
        assert current is not None and sep and key.isidentifier(), f"line {number}: {line!r}"
        current.append((key, value))
    return sections


def values(unit: dict[str, list[tuple[str, str]]], section: str, key: str) -> list[str]:
    return [v for k, v in unit[section] if k == key]


@pytest.mark.parametrize("system", [False, True], ids=["user", "system"])
def test_the_unit_restarts_on_failure_is_sandboxed_and_verifies(tmp_path: Path, system: bool) -> None:
    project = fake_project(tmp_path)
    config = config_for(project, tmp_path / "home", database_url="sqlite:////var/lib/brent db/brent.db")
    rule = egress_rule(config.database_url, False, "nameserver 192.168.1.1\nnameserver 9.9.9.9\n")
    text = render_unit(config, rule, system=system)
    unit = parse_unit(text)
    service = dict(unit["Service"])
    assert service["Restart"] == "on-failure" and service["RestartPreventExitStatus"] == "2"
    assert service["NoNewPrivileges"] == "yes" and service["PrivateTmp"] == "yes"
    assert service["ProtectSystem"] == "strict" and service["MemoryMax"] == "2G"
    assert service["KillMode"] == "mixed"
    assert service["ReadWritePaths"] == " ".join(
        escape(str(p)) for p in (project / "data", project / "logs", Path("/var/lib/brent db"))
    )
    assert service["ExecStart"] == f'"{str(project / ".venv/bin/python").replace("%", "%%")}" ' + (
        f'"{str(project / "main.py").replace("%", "%%")}"'
    )
    assert service["IPAddressAllow"] == "127.0.0.1 192.168.1.1"
    assert ("User", "daemon") in unit["Service"] if system else "User" not in service
    assert dict(unit["Install"])["WantedBy"] == ("multi-user.target" if system else "default.target")

    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed here; the parse above is the check")
    folder = tmp_path / "units"
    folder.mkdir()
    (folder / "brent.service").write_text(text)
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    command = [analyze, *([] if system else ["--user"]), "verify", "--man=no", str(folder / "brent.service")]
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "XDG_RUNTIME_DIR": str(runtime), "SYSTEMD_LOG_LEVEL": "notice"},
    )
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


def test_a_path_with_a_line_break_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ServiceError, match="line break"):
        escape("/srv/a\nExecStartPre=/bin/evil")


def test_the_egress_rule_keeps_what_the_bot_needs_and_nothing_else_private() -> None:
    resolv = "# generated\nnameserver 127.0.0.53\nnameserver 10.0.0.1\nnameserver 1.1.1.1\nnameserver fe80::1%eth0\n"
    rule = egress_rule("postgresql://brent:secret@172.20.0.5:5432/brent", False, resolv)
    assert rule.deny == DENIED
    assert [str(a) for a in rule.allow] == ["127.0.0.1", "127.0.0.53", "10.0.0.1", "fe80::1", "172.20.0.5"]
    for address in ("169.254.169.254", "192.168.0.1", "127.0.0.2", "::1", "100.64.0.1", "fd00::1"):
        assert any(ipaddress.ip_address(address) in n for n in rule.deny), address
    assert not any(ipaddress.ip_address("162.159.128.233") in n for n in rule.deny)  # Discord stays reachable

    public_db = egress_rule("postgresql://brent@203.0.113.7/brent", False, "nameserver 1.1.1.1\n")
    assert [str(a) for a in public_db.allow] == ["127.0.0.1"]
    local_db = egress_rule("postgresql://brent@localhost/brent", False, "")
    assert local_db.allow[0] == ipaddress.ip_address("127.0.0.1")
    assert {str(a) for a in local_db.allow} <= {"127.0.0.1", "::1"}  # ::1 when /etc/hosts maps it
    assert egress_rule("sqlite:///data/brent.db", True, resolv) == EgressRule(
        (), (), ("ALLOW_PRIVATE_NETWORK=1: no egress rule, the local network is reachable",)
    )


def test_sqlite_paths_are_relative_to_the_project_like_the_bot_reads_them(tmp_path: Path) -> None:
    assert sqlite_file("sqlite:///data/brent.db", tmp_path) == tmp_path / "data" / "brent.db"
    assert sqlite_file("sqlite:////var/lib/brent/brent.db", tmp_path) == Path("/var/lib/brent/brent.db")
    assert sqlite_file("postgresql://db/brent", tmp_path) is None
