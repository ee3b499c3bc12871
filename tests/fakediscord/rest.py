"""The REST half of the fake: the routes discord.py calls for a music bot, each call recorded.

Answers carry ``Content-Type: application/json`` with no charset, because discord.py's
``json_or_text`` compares the header exactly and otherwise treats the body as text.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from tests.fakediscord import model
from tests.fakediscord.world import INTENT_GUILD_MESSAGE_REACTIONS, INTENT_GUILD_MESSAGES, RestCall, World

log = logging.getLogger(__name__)

API_PREFIX = "/api/v10"


def json_response(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=json.dumps(data).encode(), status=status, headers={"Content-Type": "application/json"})


def no_content() -> web.Response:
    return web.Response(status=204)


BODY: web.RequestKey[Any] = web.RequestKey("fake_discord_body", object)
FILES = web.RequestKey("fake_discord_files", list)


def error(status: int, message: str, code: int = 0) -> web.Response:
    return json_response({"message": message, "code": code}, status)


@dataclass
class InjectedFailure:
    """Answer matching calls with an error instead of handling them (``times`` left; None = always)."""

    method: str
    path_contains: str
    status: int
    code: int
    message: str
    times: int | None = 1

    def matches(self, call: RestCall) -> bool:
        return call.method == self.method and self.path_contains in call.path and self.times != 0


class RestApi:
    def __init__(self, world: World, *, gateway_url: str, require_token: str | None = None) -> None:
        self.world = world
        self.gateway_url = gateway_url
        self.require_token = require_token
        self.recommended_shards = 1  # what GET /gateway/bot tells an AutoShardedBot without a shard count
        self.unhandled: list[RestCall] = []
        self.failures: list[InjectedFailure] = []

    def routes(self) -> list[web.RouteDef]:
        p = API_PREFIX
        return [
            web.get(p + "/users/@me", self.get_me),
            web.get(p + "/oauth2/applications/@me", self.get_application),
            web.get(p + "/applications/@me", self.get_application),
            web.get(p + "/gateway", self.get_gateway),
            web.get(p + "/gateway/bot", self.get_gateway),
            web.get(p + "/channels/{channel_id}", self.get_channel),
            web.post(p + "/channels/{channel_id}/messages", self.create_message),
            web.get(p + "/channels/{channel_id}/messages", self.list_messages),
            web.get(p + "/channels/{channel_id}/messages/{message_id}", self.get_message),
            web.patch(p + "/channels/{channel_id}/messages/{message_id}", self.edit_message),
            web.delete(p + "/channels/{channel_id}/messages/{message_id}", self.delete_message),
            web.put(p + "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me", self.add_reaction),
            web.delete(p + "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/{user}", self.remove_reaction),
            web.delete(p + "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}", self.clear_reactions),
            web.delete(p + "/channels/{channel_id}/messages/{message_id}/reactions", self.clear_reactions),
            web.post(p + "/channels/{channel_id}/typing", self.typing),
            web.get(p + "/guilds/{guild_id}", self.get_guild),
            web.get(p + "/guilds/{guild_id}/channels", self.get_guild_channels),
            web.get(p + "/guilds/{guild_id}/members/{user_id}", self.get_member),
            web.put(p + "/applications/{app_id}/commands", self.put_commands),
            web.get(p + "/applications/{app_id}/commands", self.get_commands),
            web.put(p + "/applications/{app_id}/guilds/{guild_id}/commands", self.put_commands),
            web.get(p + "/applications/{app_id}/guilds/{guild_id}/commands", self.get_commands),
            web.post(p + "/interactions/{interaction_id}/{token}/callback", self.interaction_callback),
            web.route("*", p + "/{tail:.*}", self.unknown),
        ]

    @web.middleware
    async def middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if not request.path.startswith(API_PREFIX):
            return await handler(request)
        body, files = await self._read_body(request)
        call = RestCall(
            at=time.perf_counter(), method=request.method, path=request.path[len(API_PREFIX):],
            json=body, query=dict(request.query),
        )
        request[BODY] = body
        request[FILES] = files
        self.world.rest_log.append(call)
        self.world.changed()
        auth = request.headers.get("Authorization", "")
        by_interaction_token = call.path.startswith(("/interactions/", "/webhooks/"))  # no bot token there
        if not by_interaction_token and (not auth.startswith("Bot ") or (self.require_token is not None and auth != f"Bot {self.require_token}")):
            return error(401, "401: Unauthorized")
        for failure in self.failures:
            if failure.matches(call):
                if failure.times is not None:
                    failure.times -= 1
                return error(failure.status, failure.message, failure.code)
        return await handler(request)

    async def _read_body(self, request: web.Request) -> tuple[Any, list[dict[str, Any]]]:
        if not request.body_exists:
            return None, []
        if request.content_type == "application/json":
            return await request.json(), []
        if request.content_type.startswith("multipart/"):
            body: Any = None
            files: list[dict[str, Any]] = []
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                data = await part.read()  # type: ignore[union-attr]
                if part.name == "payload_json":  # type: ignore[union-attr]
                    body = json.loads(data)
                else:
                    files.append({"field": part.name, "filename": part.filename, "size": len(data)})  # type: ignore[union-attr]
            return body, files
        return (await request.read()).decode(errors="replace"), []

    # --- identity -----------------------------------------------------------------------------------

    async def get_me(self, request: web.Request) -> web.Response:
        return json_response(model.client_user_payload(self.world.bot))

    async def get_application(self, request: web.Request) -> web.Response:
        bot = self.world.bot
        return json_response({
            "id": str(self.world.application_id),
            "name": bot.name,
            "icon": None,
            "description": "",
            "summary": "",
            "rpc_origins": [],
            "bot_public": False,
            "bot_require_code_grant": False,
            "owner": model.user_payload(self.world.owner),
            "team": None,
            "verify_key": "0" * 64,
            "flags": 0,
            "bot": model.user_payload(bot),
        })

    async def get_gateway(self, request: web.Request) -> web.Response:
        return json_response({
            "url": self.gateway_url,
            "shards": self.recommended_shards,
            "session_start_limit": {"total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1},
        })

    # --- channels and guilds ---------------------------------------------------------------------------

    def _channel(self, request: web.Request) -> model.FakeChannel | None:
        return self.world.channels.get(int(request.match_info["channel_id"]))

    async def get_channel(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        return json_response(model.channel_payload(channel)) if channel else error(404, "Unknown Channel", 10003)

    async def get_guild(self, request: web.Request) -> web.Response:
        guild_id = int(request.match_info["guild_id"])
        if guild_id not in self.world.guilds:
            return error(404, "Unknown Guild", 10004)
        data = self.world.guild_create(guild_id)
        for key in ("members", "channels", "voice_states", "presences", "threads"):
            data.pop(key, None)
        return json_response(data)

    async def get_guild_channels(self, request: web.Request) -> web.Response:
        guild = self.world.guilds.get(int(request.match_info["guild_id"]))
        if guild is None:
            return error(404, "Unknown Guild", 10004)
        return json_response([model.channel_payload(c) for c in guild.channels])

    async def get_member(self, request: web.Request) -> web.Response:
        guild_id = int(request.match_info["guild_id"])
        user_id = int(request.match_info["user_id"])
        if guild_id not in self.world.guilds:
            return error(404, "Unknown Guild", 10004)
        user = next((u for u in self.world.guild_members(guild_id) if u.id == user_id), None)
        return json_response(model.member_payload(user, guild=self.world.guilds[guild_id])) if user else error(404, "Unknown Member", 10007)

    async def typing(self, request: web.Request) -> web.Response:
        return no_content() if self._channel(request) else error(404, "Unknown Channel", 10003)

    # --- messages ---------------------------------------------------------------------------------------

    async def create_message(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        if channel is None:
            return error(404, "Unknown Channel", 10003)
        body: dict[str, Any] = request[BODY] or {}
        if channel.kind != "text":
            return error(400, "Cannot send messages in a voice channel", 50008)
        content = body.get("content") or ""
        if len(content) > 2000:
            return error(400, "Invalid Form Body: content: Must be 2000 or fewer in length.", 50035)
        if not content and not body.get("embeds") and not request[FILES] and not body.get("components"):
            return error(400, "Cannot send an empty message", 50006)
        attachments = [
            {"id": str(model.snowflake()), "filename": f["filename"], "size": f["size"],
             "url": f"https://cdn.invalid/{f['filename']}", "proxy_url": f"https://cdn.invalid/{f['filename']}"}
            for f in request[FILES]
        ]
        data = self.world.create_message(
            channel.id, self.world.bot, content,
            embeds=body.get("embeds") or [], components=body.get("components") or [],
            attachments=attachments, message_reference=body.get("message_reference"),
            nonce=body.get("nonce"), flags=body.get("flags") or 0,
        )
        return json_response(data)

    async def list_messages(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        if channel is None:
            return error(404, "Unknown Channel", 10003)
        limit = int(request.query.get("limit", "50"))
        before = int(request.query.get("before", str(1 << 63)))
        after = int(request.query.get("after", "0"))
        found = [
            m for mid, m in sorted(self.world.messages.items(), reverse=True)
            if int(m["channel_id"]) == channel.id and after < mid < before
        ]
        return json_response(found[:limit])

    async def get_message(self, request: web.Request) -> web.Response:
        message = self.world.messages.get(int(request.match_info["message_id"]))
        return json_response(message) if message else error(404, "Unknown Message", 10008)

    async def edit_message(self, request: web.Request) -> web.Response:
        message = self.world.messages.get(int(request.match_info["message_id"]))
        if message is None:
            return error(404, "Unknown Message", 10008)
        if int(message["author"]["id"]) != self.world.bot.id:
            return error(403, "Cannot edit a message authored by another user", 50005)
        body: dict[str, Any] = request[BODY] or {}
        for key in ("content", "embeds", "components", "flags"):
            if key in body:
                message[key] = body[key] if body[key] is not None else ([] if key != "content" else "")
        message["edited_timestamp"] = model.iso_now()
        self.world.dispatch("MESSAGE_UPDATE", message, INTENT_GUILD_MESSAGES)
        self.world.changed()
        return json_response(message)

    async def delete_message(self, request: web.Request) -> web.Response:
        message_id = int(request.match_info["message_id"])
        message = self.world.messages.pop(message_id, None)
        if message is None:
            return error(404, "Unknown Message", 10008)
        self.world.deleted_messages.append(message_id)
        self.world.dispatch(
            "MESSAGE_DELETE",
            {"id": str(message_id), "channel_id": message["channel_id"], "guild_id": message["guild_id"]},
            INTENT_GUILD_MESSAGES,
        )
        self.world.changed()
        return no_content()

    # --- reactions --------------------------------------------------------------------------------------

    def _reaction_target(self, request: web.Request) -> tuple[dict[str, Any] | None, str]:
        message = self.world.messages.get(int(request.match_info["message_id"]))
        emoji = urllib.parse.unquote(request.match_info.get("emoji", ""))
        return message, emoji

    async def add_reaction(self, request: web.Request) -> web.Response:
        message, emoji = self._reaction_target(request)
        if message is None:
            return error(404, "Unknown Message", 10008)
        reactions: list[dict[str, Any]] = message.setdefault("reactions", [])
        existing = next((r for r in reactions if r["emoji"]["name"] == emoji), None)
        if existing is None:
            reactions.append({"emoji": {"id": None, "name": emoji}, "count": 1, "me": True,
                              "count_details": {"burst": 0, "normal": 1}, "burst_colors": [], "me_burst": False})
        elif not existing["me"]:
            existing["me"] = True
            existing["count"] += 1
        self.world.dispatch("MESSAGE_REACTION_ADD", {
            "user_id": str(self.world.bot.id), "channel_id": message["channel_id"], "message_id": message["id"],
            "guild_id": message["guild_id"], "emoji": {"id": None, "name": emoji}, "burst": False, "type": 0,
            "member": model.member_payload(self.world.bot, guild=self.world.guilds[int(message["guild_id"])]),
        }, INTENT_GUILD_MESSAGE_REACTIONS)
        self.world.changed()
        return no_content()

    async def remove_reaction(self, request: web.Request) -> web.Response:
        message, emoji = self._reaction_target(request)
        if message is None:
            return error(404, "Unknown Message", 10008)
        for r in message.get("reactions", []):
            if r["emoji"]["name"] == emoji:
                r["count"] -= 1
                if request.match_info["user"] == "@me":
                    r["me"] = False
        message["reactions"] = [r for r in message.get("reactions", []) if r["count"] > 0]
        self.world.changed()
        return no_content()

    async def clear_reactions(self, request: web.Request) -> web.Response:
        message, emoji = self._reaction_target(request)
        if message is None:
            return error(404, "Unknown Message", 10008)
        message["reactions"] = [r for r in message.get("reactions", []) if emoji and r["emoji"]["name"] != emoji]
        self.world.changed()
        return no_content()

    # --- application commands and interactions -----------------------------------------------------------

    async def put_commands(self, request: web.Request) -> web.Response:
        body: list[dict[str, Any]] = request[BODY] or []
        commands = [
            {"type": 1, **c, "id": str(model.snowflake()), "application_id": str(self.world.application_id),
             "version": str(model.snowflake()), "default_member_permissions": c.get("default_member_permissions")}
            for c in body
        ]
        key = request.match_info.get("guild_id", "global")
        self.world.commands[key] = commands
        return json_response(commands)

    async def get_commands(self, request: web.Request) -> web.Response:
        key = request.match_info.get("guild_id", "global")
        return json_response(self.world.commands.get(key, []))

    async def interaction_callback(self, request: web.Request) -> web.Response:
        return no_content()

    async def unknown(self, request: web.Request) -> web.Response:
        self.unhandled.append(self.world.rest_log[-1])
        log.warning("fake discord: unhandled REST call %s %s", request.method, request.path)
        return error(404, "404: Not Found")
