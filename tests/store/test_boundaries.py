"""The store is the only place that talks to a database."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATABASE_MODULES = {"sqlite3", "aiosqlite", "asyncpg"}


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_no_database_driver_is_used_outside_bot_store() -> None:
    sources = [
        ROOT / "main.py",
        *ROOT.glob("bot/**/*.py"),
        *ROOT.glob("cogs/**/*.py"),
        *ROOT.glob("audio/**/*.py"),
    ]
    store_dir = ROOT / "bot" / "store"
    offenders = [
        str(path.relative_to(ROOT))
        for path in sources
        if path.exists() and store_dir not in path.parents and _imported_modules(path) & DATABASE_MODULES
    ]
    assert offenders == []
    assert _imported_modules(store_dir / "sqlite.py") & DATABASE_MODULES  # the check does see imports
