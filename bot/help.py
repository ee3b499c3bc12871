"""`help`: every command on one page with its alias and an example, or one command in full."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import discord
from discord.ext import commands

from bot.text import code_span

HELP_CHUNK = 1900


class BrentHelp(commands.HelpCommand):
    def __init__(self) -> None:
        super().__init__(command_attrs={"aliases": ["h", "commands"], "help": "List every command with examples."})

    def _line(self, command: commands.Command[Any, ..., Any]) -> str:
        prefix = self.context.clean_prefix
        usage = f" {command.usage}" if command.usage else ""
        alias = f" (`{prefix}{command.aliases[0]}`)" if command.aliases else ""
        summary = (command.short_doc or "").split(" Example")[0]
        return f"`{prefix}{command.name}{usage}`{alias} {summary}"

    async def send_bot_help(
        self, mapping: Mapping[commands.Cog | None, list[commands.Command[Any, ..., Any]]]
    ) -> None:
        lines: list[str] = []
        for cog, cmds in sorted(mapping.items(), key=lambda item: item[0].qualified_name if item[0] else "~"):
            visible = await self.filter_commands(cmds, sort=True)
            if not visible:
                continue
            lines.append(f"**{cog.qualified_name if cog else 'Other'}**")
            lines.extend(self._line(c) for c in visible)
        lines.append(f"`{self.context.clean_prefix}help <command>` shows one command with examples.")
        await self._send("\n".join(lines))

    async def send_cog_help(self, cog: commands.Cog) -> None:
        visible = await self.filter_commands(cog.get_commands(), sort=True)
        await self._send("\n".join([f"**{cog.qualified_name}**", *(self._line(c) for c in visible)]))

    async def send_group_help(self, group: commands.Group[Any, ..., Any]) -> None:
        visible = await self.filter_commands(group.commands, sort=True)
        await self._send("\n".join([self._full(group), *(self._line(c) for c in visible)]))

    async def send_command_help(self, command: commands.Command[Any, ..., Any]) -> None:
        await self._send(self._full(command))

    def _full(self, command: commands.Command[Any, ..., Any]) -> str:
        prefix = self.context.clean_prefix
        usage = f" {command.usage}" if command.usage else ""
        aliases = ", ".join(f"`{prefix}{a}`" for a in command.aliases)
        text = f"`{prefix}{command.qualified_name}{usage}`"
        if aliases:
            text += f" (also {aliases})"
        return f"{text}\n{command.help or ''}"

    def command_not_found(self, string: str, /) -> str:
        return f"There is no command called {code_span(string, 50)}."

    async def _send(self, text: str) -> None:
        destination = self.get_destination()
        chunk = ""
        for line in text.splitlines():  # whole lines per message, so no code span is cut in two
            if chunk and len(chunk) + len(line) + 1 > HELP_CHUNK:
                await destination.send(chunk, allowed_mentions=discord.AllowedMentions.none())
                chunk = ""
            chunk = f"{chunk}\n{line}" if chunk else line[:HELP_CHUNK]
        if chunk:
            await destination.send(chunk, allowed_mentions=discord.AllowedMentions.none())
