"""Saved playlists: create, fill, show, play, save the queue, export and import JSON/M3U files.

A thin cog: names are validated and permissions enforced by the store (inside its transactions, so
two members editing one playlist at once both get their change); playing enqueues the saved rows
as they are, and fresh stream URLs are fetched right before each track plays.
"""

from __future__ import annotations

import io
import logging
import random
import re
from typing import TYPE_CHECKING, Annotated, Any, Literal

import discord
from discord import app_commands
from discord.ext import commands

from audio.errors import PlayerError
from audio.track import Track
from bot.admission import member_cooldown
from bot.autocomplete import forget_playlists, playlist_suggestions
from bot.checks import member_voice_channel
from bot.converters import PlayOrder, Position
from bot.queueing import queue_for
from bot.slash import hybrid_group, subcommand
from bot.store import (
    DatabaseUnavailable,
    Playlist,
    PlaylistError,
    PlaylistImportError,
    Store,
    check_may_change,
    parse_playlist,
    playlist_to_json,
    playlist_to_m3u,
)
from bot.store.playlist_formats import MAX_IMPORT_BYTES
from bot.text import format_duration, safe_text

if TYPE_CHECKING:
    from bot.bot import BrentBot

log = logging.getLogger(__name__)

Ctx = commands.Context["BrentBot"]
IMPORT_SUFFIXES = (".json", ".m3u", ".m3u8", ".txt")
PAGE_SIZE = 10
ORDER_CHOICES = [app_commands.Choice(name="shuffle", value="shuffle")]


def _name(playlist: Playlist) -> str:
    return f"**{safe_text(playlist.name, 100)}**"


def _track_line(position: int, track: Track) -> str:
    return f"`{position}.` {safe_text(track.title, 150)} ({format_duration(track.duration)})"


def _file_name(name: str, suffix: str) -> str:
    """A plain file name for the export (names may hold spaces and signs Discord would mangle)."""
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", name).strip("_") or "playlist"
    return f"{stem[:50]}.{suffix}"


def _tracks_word(count: int) -> str:
    return f"{count} track" if count == 1 else f"{count} tracks"


class PlaylistsCog(commands.Cog, name="Playlists", command_attrs={"ignore_extra": False}):
    def __init__(self, bot: BrentBot) -> None:
        self.bot = bot

    async def cog_after_invoke(self, ctx: commands.Context[Any]) -> None:
        if ctx.guild is not None:
            forget_playlists(self.bot.store, ctx.guild.id)  # suggestions read the changed playlists again

    def _store(self) -> Store:
        store = self.bot.store
        if store is None:
            raise DatabaseUnavailable("the store is not open")
        return store

    @staticmethod
    def _can_manage(ctx: Ctx) -> bool:
        member = ctx.author
        return isinstance(member, discord.Member) and member.guild_permissions.manage_guild

    @staticmethod
    def _guild_id(ctx: Ctx) -> int:
        assert ctx.guild is not None
        return ctx.guild.id

    @hybrid_group(name="playlist", aliases=["pl"], invoke_without_command=True, case_insensitive=True)
    @commands.guild_only()
    async def playlist(self, ctx: Ctx) -> None:
        """Saved playlists of this server. Anyone may play one; its creator or Manage Server may change it.

        Examples: `playlist list` · `playlist create road trip` · `pl play "road trip" shuffle`
        Names with spaces need quotes when more follows them: `pl add "road trip" some song`.
        """
        await ctx.send_help(ctx.command)

    @subcommand(playlist, name="create", aliases=["new"], usage="<name>")
    @app_commands.describe(name="The new playlist's name")
    async def create(self, ctx: Ctx, *, name: str) -> None:
        """Create an empty playlist. Example: `playlist create road trip`"""
        created = await self._store().create_playlist(self._guild_id(ctx), name, owner_id=ctx.author.id)
        await ctx.send(f"Created playlist {_name(created)}.")

    @subcommand(playlist, name="delete", aliases=["del"], usage="<name>")
    @app_commands.describe(name="The playlist to delete")
    @app_commands.autocomplete(name=playlist_suggestions)
    async def delete(self, ctx: Ctx, *, name: str) -> None:
        """Delete a playlist (its creator or Manage Server). Example: `playlist delete road trip`"""
        gone = await self._store().delete_playlist(
            self._guild_id(ctx), name, user_id=ctx.author.id, can_manage=self._can_manage(ctx)
        )
        await ctx.send(f"Deleted playlist {_name(gone)} ({_tracks_word(gone.track_count)}).")

    @subcommand(playlist, name="rename", aliases=["mv"], usage="<old> <new>")
    @app_commands.describe(old="The playlist to rename", new="Its new name")
    @app_commands.autocomplete(old=playlist_suggestions)
    async def rename(self, ctx: Ctx, old: str, *, new: str) -> None:
        """Rename a playlist. Quote a name with spaces. Examples: `pl rename old new` · `pl rename "road trip" holiday`"""
        renamed = await self._store().rename_playlist(
            self._guild_id(ctx), old, new, user_id=ctx.author.id, can_manage=self._can_manage(ctx)
        )
        await ctx.send(f"Renamed to {_name(renamed)}.")

    @subcommand(playlist, name="add", aliases=["a"], usage="<name> [url or words]")
    @commands.dynamic_cooldown(member_cooldown("search_cooldown"), commands.BucketType.member)
    @app_commands.describe(name="The playlist to add to", query="A link or words; leave out for the track playing now")
    @app_commands.autocomplete(name=playlist_suggestions)
    async def add(self, ctx: Ctx, name: str, *, query: str | None = None) -> None:
        """Add a link or the first search hit; without one, the track playing now.

        Examples: `pl add mix https://youtu.be/dQw4w9WgXcQ` · `pl add mix daft punk` · `pl add mix`
        """
        guild_id = self._guild_id(ctx)
        await ctx.defer()
        store = self._store()
        found = await store.get_playlist(guild_id, name)  # fail fast, before a slow lookup
        check_may_change(owner_id=found.owner_id, user_id=ctx.author.id, can_manage=self._can_manage(ctx))
        if query is None:
            player = self.bot.players.get(guild_id)
            if player is None or player.current is None:
                raise PlayerError("Nothing is playing. Give a link or words to add.")
            tracks = [player.current]
        else:
            async with self.bot.extraction_slots.take(guild_id, ctx.author.id):
                tracks = await self.bot.extractor.resolve_all(
                    query, requester_id=None, search_provider=self.bot.guild_settings.get(guild_id).search_provider
                )
                # Saved with its length: nothing plays here, so waiting for ffprobe costs no latency.
                tracks = [await self.bot.extractor.measure(track) for track in tracks]
        tracks = [track.requested_by(None) for track in tracks]
        playlist = await store.add_tracks(
            guild_id, name, tracks, user_id=ctx.author.id, can_manage=self._can_manage(ctx)
        )
        what = f"**{safe_text(tracks[0].title, 150)}**" if len(tracks) == 1 else _tracks_word(len(tracks))
        await ctx.send(f"Added {what} to {_name(playlist)} (now {_tracks_word(playlist.track_count)}).")

    @subcommand(playlist, name="remove", aliases=["rm"], usage="<name> <n>")
    @app_commands.describe(name="The playlist", position="The entry's number (see playlist show)")
    @app_commands.autocomplete(name=playlist_suggestions)
    async def remove(self, ctx: Ctx, name: str, position: Annotated[int, Position]) -> None:
        """Remove entry number n (see `playlist show`). Example: `playlist remove mix 3`"""
        removed = await self._store().remove_track(
            self._guild_id(ctx), name, position, user_id=ctx.author.id, can_manage=self._can_manage(ctx)
        )
        what = f"**{safe_text(removed.title, 150)}**" if removed is not None else f"entry {position}"
        await ctx.send(f"Removed {what}.")

    @subcommand(playlist, name="show", aliases=["s"], usage="<name> [page]")
    @app_commands.describe(name="The playlist", page="Page number, 10 tracks a page")
    @app_commands.autocomplete(name=playlist_suggestions)
    async def show(self, ctx: Ctx, name: str, page: Annotated[int, Position] = 1) -> None:
        """Show a playlist's tracks, 10 a page. Examples: `playlist show mix` · `pl s mix 2`"""
        shown = await self._store().playlist_page(self._guild_id(ctx), name, page, size=PAGE_SIZE)
        head = (
            f"{_name(shown.playlist)}: {_tracks_word(shown.playlist.track_count)}"
            f" (page {shown.number}/{shown.pages})"
        )
        lines = [head] + [_track_line(entry.position, entry.track) for entry in shown.entries]
        if not shown.entries:
            lines.append("It is empty. Add tracks with `playlist add`.")
        await ctx.send("\n".join(lines)[:2000])

    @subcommand(playlist, name="list", aliases=["ls"])
    async def list_(self, ctx: Ctx) -> None:
        """List this server's playlists. Example: `playlist list`"""
        playlists = await self._store().list_playlists(self._guild_id(ctx))
        if not playlists:
            await ctx.send("This server has no playlists yet. Make one with `playlist create <name>`.")
            return
        lines = [f"{_name(p)}: {_tracks_word(p.track_count)}" for p in playlists]
        await ctx.send(f"{len(playlists)} playlists:\n" + "\n".join(lines)[:1900])

    @subcommand(playlist, name="play", aliases=["p"], usage="<name> [shuffle]")
    @commands.dynamic_cooldown(member_cooldown("play_cooldown"), commands.BucketType.member)
    @app_commands.describe(name="The playlist to queue", mode="shuffle, or leave out for the saved order")
    @app_commands.autocomplete(name=playlist_suggestions)
    @app_commands.choices(mode=ORDER_CHOICES)
    async def play(self, ctx: Ctx, name: str, mode: Annotated[str | None, PlayOrder] = None) -> None:
        """Add a playlist to the end of the queue, optionally shuffled. Examples: `pl play mix` · `pl p mix shuffle`"""
        assert ctx.guild is not None
        await ctx.defer()
        channel = member_voice_channel(ctx.author)
        playlist, tracks = await self._store().playlist_tracks(ctx.guild.id, name)
        if not tracks:
            raise PlaylistError(f"{_name(playlist)} is empty.")
        tracks = [track.requested_by(ctx.author.id) for track in tracks]
        if mode == "shuffle":
            random.shuffle(tracks)
        async with self.bot.arrival_order.turn(ctx.guild.id) as turn:
            queued = await queue_for(
                self.bot, turn, guild=ctx.guild, voice_channel=channel, text_channel_id=ctx.channel.id,
                requester_id=ctx.author.id, tracks=tracks,
            )
        if queued.refusal is not None:
            raise queued.refusal
        skipped = len(tracks) - len(queued.tracks)
        note = f" ({skipped} left out by the queue limits)" if skipped else ""
        order = ", shuffled" if mode == "shuffle" else ""
        reply = f"Queued {_tracks_word(len(queued.tracks))} from {_name(playlist)}{order}{note}."
        if queued.saved is False:
            reply += " The queue could not be saved right now; it plays from memory."
        await ctx.send(reply)

    @subcommand(playlist, name="save", aliases=["sv"], usage="<name>")
    @app_commands.describe(name="The new playlist's name")
    async def save(self, ctx: Ctx, *, name: str) -> None:
        """Save the queue (the track playing now first) as a new playlist. Example: `playlist save friday`"""
        guild_id = self._guild_id(ctx)
        player = self.bot.players.get(guild_id)
        tracks: list[Track] = []
        if player is not None:
            tracks = ([player.current] if player.current is not None else []) + list(player.queue)
        if not tracks:
            raise PlayerError("The queue is empty; there is nothing to save.")
        tracks = [track.requested_by(None) for track in tracks]
        saved = await self._store().save_playlist(guild_id, name, tracks, owner_id=ctx.author.id)
        await ctx.send(f"Saved {_tracks_word(saved.track_count)} as {_name(saved)}.")

    @subcommand(playlist, name="export", aliases=["ex"], usage="<name> [json|m3u]")
    @app_commands.describe(name="The playlist to export", kind="The file format")
    @app_commands.autocomplete(name=playlist_suggestions)
    async def export(self, ctx: Ctx, name: str, kind: Literal["json", "m3u"] = "json") -> None:
        """Send a playlist as a file another bot (or `playlist import`) can read.

        Examples: `playlist export mix` · `pl ex mix m3u`
        """
        playlist, tracks = await self._store().playlist_tracks(self._guild_id(ctx), name)
        text = playlist_to_json(playlist.name, tracks) if kind == "json" else playlist_to_m3u(playlist.name, tracks)
        upload = discord.File(io.BytesIO(text.encode("utf-8")), filename=_file_name(playlist.name, kind))
        await ctx.send(f"{_name(playlist)}: {_tracks_word(len(tracks))}.", file=upload)

    @subcommand(playlist, name="import", aliases=["im"], usage="[name] (attach a .json, .m3u, .m3u8 or .txt file)")
    @app_commands.describe(file="A .json, .m3u, .m3u8 or .txt playlist file", name="Name for the playlist (the file's own if left out)")
    async def import_(self, ctx: Ctx, file: discord.Attachment | None = None, *, name: str | None = None) -> None:
        """Make a playlist from an attached file; the name defaults to the one in the file.

        Reads BRENT's JSON and M3U exports, Red's and Vocard's playlist exports, and a plain list of
        links (.txt, one a line, as JMusicBot and MusicBot keep them).

        Examples: `playlist import` (with mix.json attached) · `pl im road trip` (with trip.m3u attached)
        """
        guild_id = self._guild_id(ctx)
        store = self._store()
        await ctx.defer()
        attachment = self._import_attachment(ctx, file)
        try:
            data = await attachment.read()
        except (discord.HTTPException, OSError) as exc:
            raise PlaylistImportError("I couldn't download that file; try again.") from exc
        if len(data) > MAX_IMPORT_BYTES:
            raise PlaylistImportError(f"The file is larger than {MAX_IMPORT_BYTES // 1_000_000} MB.")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise PlaylistImportError("The file is not UTF-8 text.") from exc
        imported = parse_playlist(
            text,
            max_tracks=store.limits.max_playlist_tracks,
            provider_of=self.bot.extractor.policy.provider_of,
        )
        chosen = name or imported.name
        if not chosen:
            raise PlaylistImportError("The file has no playlist name; give one: `playlist import <name>`.")
        if not imported.tracks:
            raise PlaylistImportError("The file has no tracks.")
        saved = await store.save_playlist(guild_id, chosen, imported.tracks, owner_id=ctx.author.id)
        await ctx.send(f"Imported {_tracks_word(saved.track_count)} as {_name(saved)}.")

    @staticmethod
    def _import_attachment(ctx: Ctx, file: discord.Attachment | None) -> discord.Attachment:
        attachments = [file] if ctx.interaction is not None and file is not None else ctx.message.attachments
        if len(attachments) != 1:
            raise PlaylistImportError("Attach one .json, .m3u, .m3u8 or .txt file to the command.")
        attachment = attachments[0]
        if not attachment.filename.lower().endswith(IMPORT_SUFFIXES):
            raise PlaylistImportError("Attach a .json, .m3u, .m3u8 or .txt file.")
        if attachment.size > MAX_IMPORT_BYTES:
            raise PlaylistImportError(f"The file is larger than {MAX_IMPORT_BYTES // 1_000_000} MB.")
        return attachment


async def setup(bot: BrentBot) -> None:
    await bot.add_cog(PlaylistsCog(bot))
