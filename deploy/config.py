"""ServiceConfig: every value the service files are rendered from, read once from the project.

The settings come from the project's credentials.env alone (not from the installing shell), since
that file is all the service will see.
"""

from __future__ import annotations

import os
import pwd
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from bot.settings import load_settings

DEFAULT_NAME = "brent"
DEFAULT_MEMORY_MAX = "2G"


class ServiceError(Exception):
    """Something the user must fix first; the message says what."""


@dataclass(frozen=True, slots=True)
class ServiceConfig:
    name: str
    project: Path
    python: Path
    home: Path
    data_dir: Path
    database_url: str
    allow_private_network: bool
    memory_max: str = DEFAULT_MEMORY_MAX
    run_as: str | None = None  # a system unit's User=

    @property
    def main(self) -> Path:
        return self.project / "main.py"

    @property
    def logs_dir(self) -> Path:
        return self.project / "logs"

    @property
    def writable_dirs(self) -> tuple[Path, ...]:
        """What the bot writes: DATA_DIR, logs/ and a SQLite database kept elsewhere."""
        found = [self.data_dir, self.logs_dir]
        sqlite = sqlite_file(self.database_url, self.project)
        if sqlite is not None and not any(sqlite.is_relative_to(d) for d in found):
            found.append(sqlite.parent)
        return tuple(found)


def load_config(
    project: Path,
    *,
    home: Path,
    name: str = DEFAULT_NAME,
    memory_max: str = DEFAULT_MEMORY_MAX,
    run_as: str | None = None,
) -> ServiceConfig:
    project = project.absolute()
    python = project / ".venv" / "bin" / "python"
    if not python.exists():
        raise ServiceError(f"{python} is missing: run bin/setup first.")
    settings = load_settings(project / "credentials.env", environ={}, require_token=False)
    data_dir = settings.data_dir if settings.data_dir.is_absolute() else project / settings.data_dir
    return ServiceConfig(
        name=name,
        project=project,
        python=python,
        home=home,
        data_dir=data_dir,
        database_url=settings.database_url,
        allow_private_network=settings.allow_private_network,
        memory_max=memory_max,
        run_as=run_as,
    )


def sqlite_file(database_url: str, project: Path) -> Path | None:
    parts = urlsplit(database_url)
    if parts.scheme != "sqlite":
        return None
    path = Path(parts.path[1:] if parts.path.startswith("/") else parts.path)
    return path if path.is_absolute() else project / path


def owner_of(path: Path) -> str:
    return pwd.getpwuid(os.stat(path).st_uid).pw_name
