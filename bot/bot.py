"""BrentBot: the commands.Bot that owns BRENT's shared resources, and create_bot() to build it offline.

Shared things (settings, the one Extractor, the per-guild GuildPlayers, the voice connector, later
the store) are created once here and reached by cogs through a typed ``self.bot``; cogs keep no
module globals. Building the bot touches no network: login happens only in ``bot.start``.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import discord
from discord.ext import commands

from audio.errors import StoreError
from audio.events import PlayerEvents
from audio.executors import default_workers
from audio.extractor import Extractor
from audio.ffmpeg_standby import OPUS_OUTPUT, PCM_OUTPUT, FfmpegStandby
from audio.options import PlayerOptions
from audio.player import GuildPlayer
from audio.queue import TrackQueue
from audio.url_policy import UrlPolicy
from audio.voice_clock import VoiceClocks
from bot.admission import ExtractionSlots, Limits
from bot.arrival_order import ArrivalOrder
from bot.autocomplete import RecentTracks
from bot.client_options import client_options
from bot.command_sync import sync_if_changed
from bot.errors import NotListening, UserBlocked, handle_command_error
from bot.guild_settings import GuildSettingsBook
from bot.health.probe import probe
from bot.health.server import HealthServer
from bot.player_controls import PlayerControls
from bot.queue_memory import QueueMemory
from bot.settings import Settings
from bot.voice_connect import VoiceConnector

if TYPE_CHECKING:
    from bot.store import Store

log = logging.getLogger(__name__)

STANDBY_START_TIMEOUT = 10.0  # seconds; past it the first plays start a fresh ffmpeg
EXTENSIONS: tuple[str, ...] = (
    "cogs.voice", "cogs.playback", "cogs.filters", "cogs.queue", "cogs.queue_tools", "cogs.search", "cogs.sources",
    "cogs.admin", "cogs.playlists", "cogs.settings",
)


class BrentBot(commands.Bot):
    """The bot plus its shared state; see docs/architecture.md for what each attribute is."""

    settings: Settings
    extractor: Extractor
    players: dict[int, GuildPlayer]
    player_events: PlayerEvents  # every player publishes here; cogs and persistence subscribe
    voice_connector: VoiceConnector
    text_channels: dict[int, int]  # guild id -> the channel music was last requested from
    limits: Limits
    extraction_slots: ExtractionSlots
    arrival_order: ArrivalOrder
    blocked_users: set[int]  # the owner's block list (guild_settings.blocked[0]); servers have their own
    guild_settings: GuildSettingsBook
    recent_tracks: RecentTracks  # for `play` suggestions
    controls: PlayerControls  # what playback commands and controller buttons do, with their checks
    store: Store | None  # None until start-up wiring opens one (see bot.store.open_store)
    queue_memory: QueueMemory  # per-guild play history and undo step
    ffmpeg: str
    ffmpeg_stderr: IO[bytes] | None
    ffmpeg_standby: FfmpegStandby | None  # started at login (FFMPEG_STANDBY > 0), killed in close()
    health_socket: Path | None  # where `main.py --health` asks (main.py sets it; test bots serve none)

    def __init__(
        self,
        settings: Settings,
        *,
        extractor: Extractor,
        ffmpeg: str = "ffmpeg",
        ffmpeg_stderr: IO[bytes] | None = None,
        extensions: tuple[str, ...] = EXTENSIONS,
        health_socket: Path | None = None,
        **bot_kwargs: Any,
    ) -> None:
        super().__init__(**client_options(settings, bot_kwargs))
        self.settings = settings
        self.extractor = extractor
        self.ffmpeg = ffmpeg
        self.ffmpeg_stderr = ffmpeg_stderr
        self.extensions_to_load = extensions
        self.failed_extensions: dict[str, BaseException] = {}
        self.players = {}
        self.player_events = PlayerEvents()
        self.text_channels = {}
        self.limits = Limits(
            max_queue_length=settings.max_queue_length,
            max_user_tracks=settings.max_user_tracks,
            max_track_duration=settings.max_track_duration,
        )
        self.extraction_slots = ExtractionSlots(settings.extractions_per_guild)
        self.arrival_order = ArrivalOrder()
        self.guild_settings = GuildSettingsBook(settings)
        self.recent_tracks = RecentTracks()
        self.player_events.subscribe(self.recent_tracks)
        self.blocked_users = self.guild_settings.everywhere
        self.add_check(self._not_blocked)
        self.add_check(self._listens_here)
        self.voice_connector = VoiceConnector(self)
        self.controls = PlayerControls(self)
        self._voice_clocks: VoiceClocks | None = None
        self.store = None
        self.queue_memory = QueueMemory(lambda: self.store)
        self.ffmpeg_standby = None
        self.health_socket = health_socket
        self._health_server: HealthServer | None = None
        self._extractor_closed = False
        self._closing = False

    async def login(self, token: str) -> None:
        """Log in (which runs setup_hook) while everything a first ``play`` would otherwise build
        on its way to the first packet is built; returns when both are done, so before the bot
        identifies (when Discord shows it online).

        Built here: the standby ffmpeg, the lookup workers' start and warm-up (an interpreter,
        yt-dlp, a YoutubeDL, one request through the egress gate each) and the voice clocks. Not in
        setup_hook or at construction: bots built for tests (dpytest, persistence) run setup_hook
        without logging in and often are never closed, and their ffmpeg and workers would outlive them.
        """
        await asyncio.to_thread(self.extractor.egress.start)  # the standby and the workers use it
        warming = asyncio.create_task(self._warm_up(), name="brent-warm-up")
        try:
            await super().login(token)
        except BaseException:
            warming.cancel()
            await asyncio.gather(warming, return_exceptions=True)
            raise
        await warming

    async def _warm_up(self) -> None:
        if self.ffmpeg_standby is None and not self._closing and self.settings.ffmpeg_standby > 0:
            self.ffmpeg_standby = FfmpegStandby(
                self.ffmpeg,
                stderr=self.ffmpeg_stderr,
                size=self.settings.ffmpeg_standby,
                env=self.extractor.egress.ffmpeg_environment(),
                outputs=(PCM_OUTPUT, OPUS_OUTPUT),
            )
        _ = self.voice_clocks
        try:
            await self.extractor.warm_up()
        except Exception as exc:  # the bot still plays: a lookup starts a worker when it needs one
            log.warning("starting the extractor's workers failed; lookups will start them: %s", exc)
        if self.ffmpeg_standby is not None:
            await asyncio.to_thread(self.ffmpeg_standby.wait_ready, STANDBY_START_TIMEOUT)
        log.info("warmed up: lookup workers, standby ffmpeg and voice clocks are ready")

    async def setup_hook(self) -> None:
        """Start the egress gate (a thread and a bind: off the loop, before any play can need it),
        then load each cog on its own: one broken cog is logged and the rest still load."""
        await asyncio.to_thread(self.extractor.egress.start)
        if self.store is not None:
            try:
                await self.guild_settings.load(self.store)
            except StoreError:
                log.exception("reading the server settings failed; every server starts with the defaults")
        if self.health_socket is not None and not self._closing:
            self._health_server = await HealthServer.open(self.health_socket, lambda: probe(self))
        for name in self.extensions_to_load:
            try:
                await self.load_extension(name)
            except Exception as exc:
                self.failed_extensions[name] = exc
                log.exception("could not load extension %s; its commands are unavailable", name)
            else:
                log.info("loaded extension %s", name)
        if self.application_id is not None:  # logged in (bots built offline for tests register nothing)
            await sync_if_changed(self.tree, self.store)

    async def _not_blocked(self, ctx: commands.Context[Any]) -> bool:
        """Blocked members (by the owner, or by the server) are ignored without a reply, so blocking
        does not invite arguments."""
        self._require_not_blocked(ctx.author, ctx.guild)
        return True

    async def _listens_here(self, ctx: commands.Context[Any]) -> bool:
        self._require_command_channel(ctx.author, ctx.guild, ctx.channel.id)
        return True

    def check_member_here(self, member: discord.abc.User, guild: discord.Guild, channel_id: int | None) -> None:
        """The bot-wide rules a command passes before its own checks, for a button press."""
        self._require_not_blocked(member, guild)
        self._require_command_channel(member, guild, channel_id)

    def _require_not_blocked(self, member: discord.abc.User, guild: discord.Guild | None) -> None:
        if self.guild_settings.is_blocked(member.id, guild.id if guild else None):
            raise UserBlocked()

    def _require_command_channel(self, member: discord.abc.User, guild: discord.Guild | None, channel_id: int | None) -> None:
        """A server may name the text channels the bot takes commands in; Manage Server works anywhere."""
        if guild is None:
            return
        allowed = self.guild_settings.get(guild.id).text_channel_ids
        if not allowed or channel_id in allowed:
            return
        if isinstance(member, discord.Member) and member.guild_permissions.manage_guild:
            return
        raise NotListening(allowed)

    def limits_for(self, guild_id: int) -> Limits:
        """The server's own limits, never above the bot-wide ones."""
        return self.guild_settings.get(guild_id).limits

    def dj_role(self, guild: discord.Guild | None) -> str | None:
        """The name of the server's DJ role, or the bot-wide one."""
        role_id = self.guild_settings.get(guild.id).dj_role_id if guild else None
        role = guild.get_role(role_id) if guild is not None and role_id is not None else None
        return role.name if role is not None else self.settings.dj_role

    def player_for(self, guild: discord.Guild | discord.Object) -> GuildPlayer:
        """The guild's player, made on first use with the configured limits and the bot's event bus."""
        player = self.players.get(guild.id)
        if player is None or player.closed:
            current = self.guild_settings.get(guild.id)
            player = GuildPlayer(
                guild.id,
                extractor=self.extractor,
                loop=asyncio.get_running_loop(),
                queue=TrackQueue(max_length=self.settings.max_queue_length, mode=current.queue_mode),
                events=self.player_events,
                volume=current.volume,  # a default is not a change to report
                options=PlayerOptions(
                    ffmpeg=self.ffmpeg,
                    ffmpeg_stderr=self.ffmpeg_stderr,
                    ffmpeg_env=self.extractor.egress.ffmpeg_environment(),
                    standby=self.ffmpeg_standby,
                    max_live_duration=self.settings.max_live_duration,
                    max_unknown_duration=self.settings.max_track_duration,
                ),
            )
            self.players[guild.id] = player
        return player

    @property
    def running_voice_clocks(self) -> VoiceClocks | None:
        """The clocks if the first play has started them (the health check must not start them)."""
        return self._voice_clocks

    @property
    def voice_clocks(self) -> VoiceClocks:
        """The threads that send every guild's voice packets; started at login (or at first use)."""
        if self._voice_clocks is None:
            self._voice_clocks = VoiceClocks()
        return self._voice_clocks

    async def drop_player(self, guild_id: int) -> None:
        """Close and forget one guild's player (e.g. when the bot is removed from the guild)."""
        player = self.players.pop(guild_id, None)
        if player is not None:
            await player.close()

    async def on_guild_remove(self, guild: discord.Guild) -> None:
        """Removed from a server: its player, its saved queue and every per-guild entry go."""
        from bot.persistence import persistence_of

        self.text_channels.pop(guild.id, None)
        self.recent_tracks.forget(guild.id)
        if (persistence := persistence_of(self)) is not None:
            persistence.forget(guild.id)
        await self.drop_player(guild.id)
        self.voice_connector.forget(guild.id)
        log.info("removed from guild %s; its player and saved state are gone", guild.id)

    async def on_command_error(
        self, context: commands.Context[Any], exception: commands.CommandError
    ) -> None:
        await handle_command_error(context, exception)

    async def close(self) -> None:
        """Stop the players and the standby (killing every ffmpeg), close extractor and store, disconnect."""
        from bot.persistence import persistence_of

        self._closing = True
        health, self._health_server = self._health_server, None
        if health is not None:  # from now on `--health` says "not running"
            await health.close()
        # Final position snapshots and pending state writes go out while the players and store are open.
        if (persistence := persistence_of(self)) is not None:
            try:
                await persistence.close()
            except Exception:
                log.exception("saving the player state at shutdown failed")
        players, self.players = list(self.players.values()), {}
        for player in players:
            try:
                await player.close()
            except Exception:
                log.exception("closing the player of guild %s failed", player.guild_id)
        standby, self.ffmpeg_standby = self.ffmpeg_standby, None
        if standby is not None:
            try:
                await asyncio.to_thread(standby.close)
            except Exception:
                log.exception("closing the standby ffmpeg processes failed")
        if not self._extractor_closed:
            self._extractor_closed = True
            try:
                self.extractor.close()
            except Exception:
                log.exception("closing the extractor failed")
        # After the players: their last StateChanged events may still be written to it.
        store, self.store = self.store, None
        if store is not None:
            try:
                await store.close()
            except Exception:
                log.exception("closing the store failed")
        await super().close()
        clocks, self._voice_clocks = self._voice_clocks, None
        if clocks is not None:  # after the voice clients: their last silence frames go out on them
            await asyncio.to_thread(clocks.close)


class ShardedBrentBot(BrentBot, commands.AutoShardedBot):
    """BrentBot over the gateway shards ``SHARD_COUNT``/``SHARD_IDS`` name; other processes run the rest."""

    def __init__(self, settings: Settings, **kwargs: Any) -> None:
        if settings.shards is None:
            raise ValueError("ShardedBrentBot needs settings.shards (SHARD_COUNT)")
        kwargs.setdefault("shard_count", settings.shards.count)
        kwargs.setdefault("shard_ids", list(settings.shards.ids))
        super().__init__(settings, **kwargs)
        self._set_up = False

    async def _async_setup_hook(self) -> None:
        await super()._async_setup_hook()
        self._set_up = True

    async def close(self) -> None:
        """discord.py's sharded close needs the queue that logging in creates; a bot closed before it
        ever logged in (a stop during start-up, tests) creates it here first."""
        if not self._set_up:
            await self._async_setup_hook()
        await super().close()


def create_bot(
    settings: Settings,
    *,
    extractor: Extractor | None = None,
    ffmpeg: str = "ffmpeg",
    ffmpeg_stderr: IO[bytes] | None = None,
    **bot_kwargs: Any,
) -> BrentBot:
    """Build the bot without any network traffic.

    Extra keyword arguments go to ``commands.Bot`` (e.g. ``connector=``, which the caller must
    create inside its running loop). ``extractor`` defaults to one configured from ``settings``.
    With ``settings.shards`` the bot is a :class:`ShardedBrentBot` (an ``AutoShardedBot``).
    """
    if extractor is None:
        extractor = Extractor(
            policy=UrlPolicy(
                allow_private_network=settings.allow_private_network,
                allowed_providers=settings.allowed_providers,
            ),
            timeout=settings.extract_timeout,
            playlist_limit=settings.playlist_limit,
            mode=settings.extractor_mode,
            # One server at its lookup cap must leave a worker for the others.
            workers=max(default_workers(), settings.extractions_per_guild + 1),
            library=(sources := settings.sources).library(), cookies=sources.ytdlp_cookies, upstream=sources.upstream,
        )
    bot_class = BrentBot if settings.shards is None else ShardedBrentBot
    return bot_class(settings, extractor=extractor, ffmpeg=ffmpeg, ffmpeg_stderr=ffmpeg_stderr, **bot_kwargs)
