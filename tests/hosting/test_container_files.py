"""The Dockerfile, .dockerignore and compose.yaml say what the README promises.

No container engine can build here in the test suite (no registry for base images), so these read
the files as the engines would: the Dockerfile's instructions (continuations joined) and the
compose file as YAML. README "Running it 24/7" says how the image itself was checked.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import yaml

PROJECT = Path(__file__).resolve().parents[2]


def instructions() -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    pending = ""
    for line in (PROJECT / "Dockerfile").read_text().splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, rest = (pending + line).strip().partition(" ")
        pending = ""
        assert keyword.isupper(), f"not an instruction: {keyword!r}"
        found.append((keyword, " ".join(rest.split())))
    assert not pending, "a continuation runs off the end"
    return found


def test_the_image_is_slim_python_with_ffmpeg_and_opus_and_runs_as_a_user_with_a_health_check() -> None:
    steps = instructions()
    keywords = [k for k, _ in steps]
    args = dict(reversed(steps))  # the first of each
    assert args["ARG"].startswith("PYTHON_IMAGE=python:3.11-slim")
    assert keywords.index("FROM") == 1 and args["FROM"] == "${PYTHON_IMAGE}"
    apt = next(a for k, a in steps if k == "RUN" and "apt-get install" in a)
    assert {"ffmpeg", "libopus0"} <= set(shlex.split(apt))
    assert "pip install --no-cache-dir -r /app/requirements.txt" in " ".join(
        a for k, a in steps if k == "RUN"
    )
    user = [a for k, a in steps if k == "USER"]
    assert user == ["brent"] and keywords.index("USER") < keywords.index("CMD")
    assert json.loads(args["VOLUME"]) == ["/app/data", "/app/logs"]
    health = args["HEALTHCHECK"]
    assert json.loads(health.split(" CMD ", 1)[1]) == ["python", "main.py", "--health"]
    assert json.loads(args["CMD"]) == ["python", "main.py"]
    assert args["WORKDIR"] == "/app"  # --health finds data/brent.sock relative to it


def test_secrets_and_state_stay_out_of_the_image() -> None:
    ignored = set((PROJECT / ".dockerignore").read_text().split())
    assert {"credentials.env", "*.env", "data/", "logs/", ".venv/", ".git/"} <= ignored


def test_compose_runs_the_image_with_volumes_and_an_optional_postgres() -> None:
    compose = yaml.safe_load((PROJECT / "compose.yaml").read_text())
    brent = compose["services"]["brent"]
    assert brent["build"] == "." and brent["init"] is True and brent["restart"] == "unless-stopped"
    assert brent["env_file"] == "credentials.env" and "environment" not in brent  # it would shadow the file
    assert brent["volumes"] == ["brent-data:/app/data", "brent-logs:/app/logs"]
    assert brent["depends_on"]["postgres"] == {"condition": "service_healthy", "required": False}
    assert "profiles" not in brent
    postgres = compose["services"]["postgres"]
    assert postgres["profiles"] == ["postgres"]
    assert postgres["healthcheck"]["test"][0] == "CMD-SHELL"
    assert set(compose["volumes"]) == {"brent-data", "brent-logs", "brent-postgres"}
