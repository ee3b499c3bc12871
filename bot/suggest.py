"""The closest command names to a mistyped one, so `\\plya x` gets an answer instead of silence."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

MAX_SUGGESTIONS = 3
CUTOFF = 0.6


def closest_commands(typed: str, names: Iterable[tuple[str, str]]) -> list[str]:
    """Command names whose name or alias is close to ``typed``, best first, each named once.

    ``names`` holds (spelling, command name) pairs: every name and alias with the command it calls.
    """
    by_spelling: dict[str, str] = {}
    for spelling, command in names:
        by_spelling.setdefault(spelling.casefold(), command)
    matches = difflib.get_close_matches(typed.casefold(), by_spelling, n=len(by_spelling), cutoff=CUTOFF)
    found: list[str] = []
    for spelling in matches:
        command = by_spelling[spelling]
        if command not in found:
            found.append(command)
    return found[:MAX_SUGGESTIONS]
