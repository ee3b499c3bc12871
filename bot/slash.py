"""Commands that are both prefix and slash commands (one callback each), typed for mypy.

discord.py's ``hybrid_command`` overloads cannot infer the context type of a cog method, so every
decorator here is the library's own, cast once. Cogs use these instead of ``commands.command``.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, cast

from discord.ext import commands

Callback = Callable[..., Coroutine[Any, Any, None]]
_Command = Callable[[Callback], commands.HybridCommand[Any, ..., None]]
_Group = Callable[[Callback], commands.HybridGroup[Any, ..., None]]


def hybrid_command(**kwargs: Any) -> _Command:
    return cast(_Command, commands.hybrid_command(**kwargs))


def hybrid_group(**kwargs: Any) -> _Group:
    return cast(_Group, commands.hybrid_group(**kwargs))


def subcommand(group: commands.HybridGroup[Any, ..., Any], **kwargs: Any) -> _Command:
    return cast(_Command, group.command(**kwargs))
