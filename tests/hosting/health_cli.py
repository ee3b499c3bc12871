"""Running ``python main.py --health`` as the container's HEALTHCHECK and ``bin/service status`` do."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]


async def health(folder: Path, env_file: Path) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(PROJECT / "main.py"),
        "--health",
        "--env-file",
        str(env_file),
        cwd=folder,
        env=bot_env_without_fake(folder),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=30)
    assert not err, err.decode()
    assert process.returncode is not None
    return process.returncode, out.decode()


def bot_env_without_fake(folder: Path) -> dict[str, str]:
    """--health needs neither the token nor Discord: a bare environment proves it."""
    return {"PATH": "/usr/bin:/bin", "HOME": str(folder), "PYTHONDONTWRITEBYTECODE": "1"}
