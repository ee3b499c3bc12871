"""The routes a bot answers interactions on, registered with the fake's app before the plain REST ones.

The app's routes are fixed once it listens, so they are added at start and hand each request to
whoever took the interactions (``tests.fakediscord.interactions.SlashMembers``); with nobody, 404.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from tests.fakediscord.rest import API_PREFIX, error


class InteractionRoutes:
    def __init__(self) -> None:
        self.handler: Any = None  # a SlashMembers

    def routes(self) -> list[web.RouteDef]:
        p = API_PREFIX
        return [
            web.post(p + "/interactions/{interaction_id}/{token}/callback", self._to("_callback")),
            web.post(p + "/webhooks/{app_id}/{token}", self._to("_followup")),
            web.get(p + "/webhooks/{app_id}/{token}/messages/{message_id}", self._to("_get")),
            web.patch(p + "/webhooks/{app_id}/{token}/messages/{message_id}", self._to("_edit")),
        ]

    def _to(self, name: str) -> Any:
        async def handle(request: web.Request) -> web.StreamResponse:
            if self.handler is None:
                return error(404, "Unknown interaction", 10062)
            response: web.StreamResponse = await getattr(self.handler, name)(request)
            return response

        return handle
