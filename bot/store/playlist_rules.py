"""Rules for playlist names and for who may change a playlist, kept pure so cogs and tests can use them."""

from __future__ import annotations

import logging
import unicodedata

from bot.store.errors import InvalidPlaylistName, NotPlaylistOwner
from bot.store.text_values import storable

log = logging.getLogger(__name__)

# Punctuation that cannot start a mention, a link or Discord markdown.
NAME_PUNCTUATION = frozenset(" -_.,'!?&()+")


def normalise_playlist_name(raw: str, *, max_length: int) -> str:
    """Return the name as it is stored and shown, or raise InvalidPlaylistName.

    NFKC folds look-alike forms (full-width letters, ligatures), and runs of whitespace become one space,
    so two names that look the same are the same name. A surrogate or NUL is refused like any other
    sign, never handed to the database.
    """
    name = " ".join(unicodedata.normalize("NFKC", storable(raw)).split())
    if not name:
        raise InvalidPlaylistName("A playlist needs a name.")
    if len(name) > max_length:
        raise InvalidPlaylistName(f"Playlist names can be at most {max_length} characters long.")
    if not all(ch.isalnum() or ch in NAME_PUNCTUATION for ch in name):
        raise InvalidPlaylistName(
            "Playlist names may only use letters, digits, spaces and these signs: - _ . , ' ! ? & ( ) +"
        )
    return name


def playlist_name_key(name: str) -> str:
    """The key uniqueness is checked on: case-insensitive for every script, not just ASCII."""
    return name.casefold()


def check_may_change(*, owner_id: int, user_id: int, can_manage: bool) -> None:
    """Anyone may play a playlist; only its creator or a member with Manage Server may change it."""
    if user_id != owner_id and not can_manage:
        raise NotPlaylistOwner("Only the playlist's creator or someone with Manage Server can change it.")
