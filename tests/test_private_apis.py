"""Every private API of a dependency that BRENT uses still exists in the pinned version.

The list lives beside the pins (requirements.txt, "# private:" lines) so an upgrade shows what to
re-check. Attributes set in ``__init__`` are not on the class, so those are looked up in the
source of the class (and its bases) as an assignment or a use of ``self.<name>``.
"""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

import pytest

REQUIREMENTS = Path(__file__).resolve().parents[1] / "requirements.txt"
_ENTRY = re.compile(r"^# private: (?P<module>[\w.]+):(?P<path>[\w.]+)\s+(?P<where>\S.*)$")


def _entries() -> list[tuple[str, str, str]]:
    found = []
    for line in REQUIREMENTS.read_text(encoding="utf-8").splitlines():
        if match := _ENTRY.match(line):
            found.append((match["module"], match["path"], match["where"]))
    return found


ENTRIES = _entries()


def test_the_list_is_there() -> None:
    assert len(ENTRIES) >= 10


@pytest.mark.parametrize(("module", "path", "where"), ENTRIES, ids=[f"{m}:{p}" for m, p, _ in ENTRIES])
def test_private_api_still_exists(module: str, path: str, where: str) -> None:
    target: object = importlib.import_module(module)
    *owners, name = path.split(".")
    for owner in owners:
        target = getattr(target, owner)
    if hasattr(target, name):
        return
    assert inspect.isclass(target), f"{module}:{path} is gone (used in {where})"
    sources = "".join(inspect.getsource(cls) for cls in target.__mro__ if cls.__module__.startswith(module.split(".")[0]))
    attribute = name.removeprefix(f"_{target.__name__}")  # a name-mangled field is written as self.__x
    assert re.search(rf"self\.{re.escape(attribute)}\b", sources), f"{module}:{path} is gone (used in {where})"


@pytest.mark.parametrize(("module", "path", "where"), ENTRIES, ids=[f"{m}:{p}" for m, p, _ in ENTRIES])
def test_every_listed_use_is_real(module: str, path: str, where: str) -> None:
    """A stale entry would hide a new private use among old ones."""
    name = path.split(".")[-1]
    files = [Path(__file__).resolve().parents[1] / f.strip(" ,") for f in where.split("(")[0].split(",")]
    assert any(name in f.read_text(encoding="utf-8") for f in files), (path, where)
