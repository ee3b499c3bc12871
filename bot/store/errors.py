"""Store-specific errors. All are BrentErrors, so the one command-error handler can reply with them."""

from __future__ import annotations

from audio.errors import BrentError, StoreError

UNAVAILABLE_MESSAGE = "The database is unavailable; playback continues but changes are not being saved."


class DatabaseUnavailable(StoreError):
    """The database file or server cannot be used right now (corrupt, locked, unreachable)."""

    def __init__(self, detail: str) -> None:
        super().__init__(UNAVAILABLE_MESSAGE, detail=detail)


class SchemaTooNew(StoreError):
    """The database was written by a newer BRENT; touching it could damage data that version relies on."""

    def __init__(self, found: int, supported: int) -> None:
        message = (
            f"This database was created by a newer BRENT (schema {found}); "
            "upgrade BRENT or point DATABASE_URL elsewhere."
        )
        super().__init__(message, detail=f"{message} This BRENT supports schema {supported}.")
        self.found = found
        self.supported = supported


class PlaylistError(BrentError):
    """A playlist request that cannot be done as asked (the database itself is fine)."""


class PlaylistNotFound(PlaylistError):
    pass


class PlaylistNameTaken(PlaylistError):
    pass


class InvalidPlaylistName(PlaylistError):
    pass


class NotPlaylistOwner(PlaylistError):
    pass


class PlaylistImportError(PlaylistError):
    """An imported JSON or M3U text is malformed; the message says where."""
