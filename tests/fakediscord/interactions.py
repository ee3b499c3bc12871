"""Interactions for the loopback Discord: slash commands, autocomplete and button clicks.

``SlashMembers(fake)`` sends INTERACTION_CREATE over the fake's gateway and answers the routes the
bot replies on, as Discord does: the interaction callback (``?with_response=1``: message, deferred
"thinking", autocomplete choices, deferred or immediate message update), follow-ups on the
interaction webhook, and ``@original`` edits. A public answer becomes a channel message (so
``fake.wait_for_message`` sees it); an ephemeral one is kept only in ``answers`` of its interaction.
The routes carry no bot token (Discord authenticates them by the interaction token in the path).

    slash = SlashMembers(fake)      # before the bot starts: adds the routes
    done = await slash.invoke(guild, member, "play", {"query": url})
    reply = await slash.wait_for_answer(done, "Playing")
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakediscord import model
from tests.fakediscord.model import FakeChannel, FakeGuild, FakeUser
from tests.fakediscord.rest import BODY, json_response
from tests.fakediscord.server import FakeDiscord
from tests.fakediscord.world import INTENT_GUILD_MESSAGES

EPHEMERAL = 64
ALL_PERMISSIONS = str((1 << 50) - 1)
_tokens = itertools.count(1)


@dataclass
class Interaction:
    """One interaction a member started, and every answer the bot gave to it, in order."""

    id: int
    token: str
    channel_id: int
    sent_at: float
    kind: int  # 2 command, 3 component, 4 autocomplete
    answers: list[dict[str, Any]] = field(default_factory=list)  # {"type", "data", "ephemeral", "message"}
    original_id: int | None = None

    def texts(self) -> list[str]:
        return [model.message_text(a["message"]) for a in self.answers if a.get("message")]


class SlashMembers:
    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake
        self.interactions: dict[str, Interaction] = {}
        fake.interaction_routes.handler = self

    # --- acting as members -------------------------------------------------------------------------------

    async def invoke(
        self, guild: FakeGuild, member: FakeUser, name: str, options: dict[str, Any] | None = None,
        *, subcommand: str | None = None, channel: FakeChannel | None = None,
    ) -> Interaction:
        """A member runs ``/name [subcommand] options`` (string, integer and number values)."""
        opts = [{"name": k, "type": _option_type(v), "value": v} for k, v in (options or {}).items()]
        if subcommand is not None:
            opts = [{"name": subcommand, "type": 1, "options": opts}]
        return await self._send(guild, member, channel, 2, {"id": "1", "name": name, "type": 1, "options": opts})

    async def autocomplete(
        self, guild: FakeGuild, member: FakeUser, name: str, focused: str, typed: str,
        *, subcommand: str | None = None, others: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """The choices the bot suggests while ``typed`` is in option ``focused``."""
        opts = [{"name": k, "type": _option_type(v), "value": v} for k, v in (others or {}).items()]
        opts.append({"name": focused, "type": 3, "value": typed, "focused": True})
        if subcommand is not None:
            opts = [{"name": subcommand, "type": 1, "options": opts}]
        sent = await self._send(guild, member, None, 4, {"id": "1", "name": name, "type": 1, "options": opts})
        answer = await self.wait_for_answer(sent, lambda a: a["type"] == 8)
        return list(answer["data"].get("choices", []))

    async def click(self, guild: FakeGuild, member: FakeUser, message: dict[str, Any], custom_id: str) -> Interaction:
        """A member presses the button ``custom_id`` on a bot message (as it is now, edits included)."""
        channel = self.fake.world.channels[int(message["channel_id"])]
        current = dict(self.fake.world.messages[int(message["id"])])
        shown = [c for row in current.get("components") or [] for c in row.get("components") or []]
        button = next((c for c in shown if c.get("custom_id") == custom_id), None)
        assert button is not None and not button.get("disabled"), f"no enabled button {custom_id!r} on that message: {shown!r}"
        data = {"custom_id": custom_id, "component_type": 2}
        return await self._send(guild, member, channel, 3, data, message=current)

    async def wait_for_answer(self, sent: Interaction, expect: Any = None, timeout: float = 15.0) -> dict[str, Any]:
        """The first answer to ``sent`` whose text holds ``expect`` (a str) or that ``expect`` accepts."""

        def probe() -> dict[str, Any] | None:
            return next((answer for answer in sent.answers if _matches(expect, answer)), None)

        return await self.fake.notifier.wait(probe, timeout, lambda: f"an answer matching {expect!r}: {sent.answers!r}")

    # --- the gateway side ---------------------------------------------------------------------------------

    async def _send(
        self, guild: FakeGuild, member: FakeUser, channel: FakeChannel | None, kind: int, data: dict[str, Any],
        *, message: dict[str, Any] | None = None,
    ) -> Interaction:
        world = self.fake.world
        target = channel or guild.text_channel
        sent = Interaction(model.snowflake(), f"token{next(_tokens)}", target.id, time.perf_counter(), kind)
        self.interactions[sent.token] = sent
        member_data = {**model.member_payload(member, guild=guild), "permissions": _permissions(guild, member)}
        payload: dict[str, Any] = {
            "id": str(sent.id), "application_id": str(world.application_id), "type": kind, "token": sent.token,
            "version": 1, "guild_id": str(guild.id), "channel_id": str(target.id),
            "channel": model.channel_payload(target), "member": member_data, "data": data,
            "app_permissions": ALL_PERMISSIONS, "attachment_size_limit": 10_485_760, "locale": "en-US", "guild_locale": "en-US", "entitlements": [],
            "authorizing_integration_owners": {"0": str(guild.id)}, "context": 0,
        }
        if message is not None:
            payload["message"] = message
            sent.original_id = int(message["id"])  # a component's @original is the message it is on

        def act() -> None:
            world.dispatch("INTERACTION_CREATE", payload, 0)

        await self.fake.notifier.run(_run(act))
        return sent

    # --- the routes the bot answers on --------------------------------------------------------------------

    async def _callback(self, request: web.Request) -> web.Response:
        sent = self.interactions[request.match_info["token"]]
        body: dict[str, Any] = request[BODY] or {}
        kind, data = int(body.get("type", 0)), body.get("data") or {}
        ephemeral = bool(int(data.get("flags") or 0) & EPHEMERAL)
        message: dict[str, Any] | None = None
        if kind == 4 and not ephemeral:
            message = await self._create(sent, data)
            sent.original_id = int(message["id"])
        elif kind == 4:
            message = _ephemeral_message(self.fake, sent, data)
        elif kind == 7:  # update the message the pressed component is on
            message = await self._update(_message_of(sent), data)
        self._answer(sent, {"type": kind, "data": data, "ephemeral": ephemeral, "message": message})
        interaction = {"id": str(sent.id), "type": sent.kind, "response_message_loading": kind == 5,
                       "response_message_ephemeral": ephemeral or bool(int(data.get("flags") or 0) & EPHEMERAL)}
        if message is not None:
            interaction["response_message_id"] = message["id"]
        resource = {"type": kind, **({"message": message} if message is not None else {})}
        return json_response({"interaction": interaction, "resource": resource})

    async def _followup(self, request: web.Request) -> web.Response:
        sent = self.interactions[request.match_info["token"]]
        data: dict[str, Any] = request[BODY] or {}
        ephemeral = bool(int(data.get("flags") or 0) & EPHEMERAL)
        message = _ephemeral_message(self.fake, sent, data) if ephemeral else await self._create(sent, data)
        self._answer(sent, {"type": "followup", "data": data, "ephemeral": ephemeral, "message": message})
        return json_response(message)

    async def _get(self, request: web.Request) -> web.Response:
        sent = self.interactions[request.match_info["token"]]
        message_id = _message_id(sent, request.match_info["message_id"])
        return json_response(self.fake.world.messages[message_id])

    async def _edit(self, request: web.Request) -> web.Response:
        sent = self.interactions[request.match_info["token"]]
        message_id = _message_id(sent, request.match_info["message_id"])
        message = await self._update(message_id, request[BODY] or {})
        self._answer(sent, {"type": "edit", "data": request[BODY], "ephemeral": False, "message": message})
        return json_response(message)

    async def _create(self, sent: Interaction, data: dict[str, Any]) -> dict[str, Any]:
        world = self.fake.world

        def act() -> dict[str, Any]:
            return world.create_message(
                sent.channel_id, world.bot, data.get("content") or "",
                embeds=data.get("embeds") or [], components=data.get("components") or [],
            )

        message = await self.fake.notifier.run(_run(act))
        return message

    async def _update(self, message_id: int, data: dict[str, Any]) -> dict[str, Any]:
        world = self.fake.world

        def act() -> dict[str, Any]:
            message = world.messages[message_id]
            for key in ("content", "embeds", "components"):
                if key in data:
                    message[key] = data[key] if data[key] is not None else ([] if key != "content" else "")
            message["edited_timestamp"] = model.iso_now()
            world.dispatch("MESSAGE_UPDATE", message, INTENT_GUILD_MESSAGES)
            world.changed()
            return message

        return await self.fake.notifier.run(_run(act))

    def _answer(self, sent: Interaction, answer: dict[str, Any]) -> None:
        sent.answers.append(answer)
        self.fake.world.changed()


async def _run(fn: Any) -> Any:
    return fn()


def _message_of(sent: Interaction) -> int:
    assert sent.original_id is not None, "no original message to update"
    return sent.original_id


def _message_id(sent: Interaction, raw: str) -> int:
    return _message_of(sent) if raw == "@original" else int(raw)


def _ephemeral_message(fake: FakeDiscord, sent: Interaction, data: dict[str, Any]) -> dict[str, Any]:
    channel = fake.world.channels[sent.channel_id]
    return model.message_payload(
        message_id=model.snowflake(), guild=fake.world.guilds[channel.guild_id], channel=channel,
        author=fake.world.bot, content=data.get("content") or "", embeds=data.get("embeds") or [],
        components=data.get("components") or [], flags=EPHEMERAL,
    )


def _permissions(guild: FakeGuild, member: FakeUser) -> str:
    bits = guild.everyone_permissions
    for role in guild.roles:
        if role.id in guild.member_roles.get(member.id, ()):
            bits |= role.permissions
    return str(bits)


def _option_type(value: Any) -> int:
    if isinstance(value, bool):
        return 5
    if isinstance(value, int):
        return 4
    if isinstance(value, float):
        return 10
    return 3


def _matches(expect: Any, answer: dict[str, Any]) -> bool:
    if expect is None:
        return True
    if isinstance(expect, str):
        message = answer.get("message")
        return message is not None and expect.lower() in model.message_text(message).lower()
    return bool(expect(answer))
