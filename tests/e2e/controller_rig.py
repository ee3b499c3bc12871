"""Reading the now-playing controller off the loopback Discord: which message it is, its fields,
buttons and edits."""

from __future__ import annotations

from typing import Any

from tests.fakediscord import FakeChannel, FakeDiscord

CONTROL = "brent:ctl:"
PAUSE, SKIP, STOP, LOOP = CONTROL + "pause", CONTROL + "skip", CONTROL + "stop", CONTROL + "loop"
VOLUME_UP, VOLUME_DOWN, SHUFFLE = CONTROL + "volup", CONTROL + "voldown", CONTROL + "shuffle"


def buttons(message: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """custom id -> component, for every button on the message."""
    return {
        c["custom_id"]: c
        for row in message.get("components") or []
        for c in row.get("components") or []
        if "custom_id" in c
    }


def is_controller(message: dict[str, Any]) -> bool:
    """A live controller (its buttons) or a finished one (its last line)."""
    if any(cid.startswith(CONTROL) for cid in buttons(message)):
        return True
    return any("Finished:" in (e.get("description") or "") for e in message.get("embeds") or [])


def is_reply(message: dict[str, Any]) -> bool:
    """Any bot message but the controller."""
    return not is_controller(message)


def controllers(fake: FakeDiscord, channel: FakeChannel) -> list[dict[str, Any]]:
    return [m for m in fake.bot_messages(channel) if is_controller(m)]


def embed(message: dict[str, Any]) -> dict[str, Any]:
    embeds = message.get("embeds") or []
    assert len(embeds) == 1, message
    return dict(embeds[0])


def field(message: dict[str, Any], name: str) -> str:
    fields = {f["name"]: f["value"] for f in embed(message).get("fields") or []}
    return str(fields[name])


def now(fake: FakeDiscord, message: dict[str, Any]) -> dict[str, Any]:
    """The message as it is now (after any edits)."""
    return fake.notifier.call(lambda: dict(fake.world.messages[int(message["id"])]))


def edits(fake: FakeDiscord, message: dict[str, Any]) -> list[float]:
    """When the bot edited the message through the REST API (not through an interaction answer)."""
    return [c.at for c in fake.rest_calls("PATCH", f"/channels/{message['channel_id']}/messages/{message['id']}")]


def controller_posts(fake: FakeDiscord, channel: FakeChannel) -> int:
    return sum(
        1
        for c in fake.rest_calls("POST", f"/channels/{channel.id}/messages")
        if any(
            str(b.get("custom_id", "")).startswith(CONTROL)
            for row in (c.json or {}).get("components") or []
            for b in row.get("components") or []
        )
    )


async def wait_for_edit(fake: FakeDiscord, message: dict[str, Any], check: Any, what: str, timeout: float = 10.0) -> dict[str, Any]:
    """Until the message, as edited, passes ``check``."""
    mid = int(message["id"])
    await fake.wait_until(lambda: mid in fake.world.messages and check(fake.world.messages[mid]), timeout, what)
    return now(fake, message)
