"""Registering the slash commands with Discord only when their definitions changed.

Discord rate-limits command registration, and a sync on every start would also make clients
refetch every command. The definitions are hashed (their JSON, sorted); the hash of the last
registration is kept in the store and a start-up registers only when it differs. Without a store
nothing is registered automatically: the owner's `synccommands` does it on demand.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

import discord
from discord import app_commands

from audio.errors import StoreError
from bot.store import Store

log = logging.getLogger(__name__)

HASH_KEY = "app_commands_hash"


def definitions_hash(tree: app_commands.CommandTree[Any]) -> str:
    """A digest of every global command as it would be registered (names, options, choices, texts)."""
    payload = sorted((command.to_dict(tree) for command in tree.get_commands()), key=lambda c: c["name"])
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


async def sync_if_changed(tree: app_commands.CommandTree[Any], store: Store | None) -> bool:
    """Register the commands when their hash differs from the stored one; True when it registered.

    A failure is logged and leaves the stored hash as it was, so the next start tries again.
    """
    if store is None:
        log.info("no database: slash commands are not registered automatically (the owner can run synccommands)")
        return False
    digest = definitions_hash(tree)
    try:
        if await store.bot_value(HASH_KEY) == digest:
            log.info("slash commands unchanged since they were last registered")
            return False
        await sync(tree, store)
    except (StoreError, discord.HTTPException) as exc:
        log.warning("registering the slash commands failed; the next start tries again: %s", exc)
        return False
    return True


async def sync(tree: app_commands.CommandTree[Any], store: Store | None) -> int:
    """Register every global command now and remember their hash; returns how many there are."""
    registered = await tree.sync()
    if store is not None:
        await store.set_bot_value(HASH_KEY, definitions_hash(tree))
    log.info("registered %d slash commands", len(registered))
    return len(registered)
