"""BrentBot: the commands.Bot that owns BRENT's shared resources, and create_bot() to build it offline.

Shared things (settings, the one Extractor, the per-guild GuildPlayers, the voice connector, later
the store) are created once here and reached by cogs through a typed ``self.bot``; cogs keep no
module globals. Building the bot touches no network: login happens only in ``bot.start``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import IO, TYPE_CHECKING, Any

import discord
from discord.ext import commands

from audio.events import PlayerEvents
from audio.executors import default_workers
from audio.extractor import Extractor
from audio.ffmpeg_standby import FfmpegStandby
from audio.options import PlayerOptions
from audio.player import GuildPlayer
from audio.queue import TrackQueue
from audio.url_policy import UrlPolicy
from audio.voice_clock import VoiceClocks
from bot.admission import ExtractionSlots, Limits
from bot.arrival_order import ArrivalOrder
from bot.errors import UserBlocked, handle_command_error
from bot.help import BrentHelp
from bot.settings import Settings
from bot.voice_connect import VoiceConnector

if TYPE_CHECKING:
    from bot.store import Store

log = logging.getLogger(__name__)

STANDBY_START_TIMEOUT = 10.0  # seconds; past it the first plays start a fresh ffmpeg
EXTENSIONS: tuple[str, ...] = (
    "cogs.voice", "cogs.playback", "cogs.queue", "cogs.search", "cogs.admin", "cogs.playlists"
)


def bot_intents() -> discord.Intents:
    """Default intents plus the privileged message content and members ones (enable both in the portal)."""
    intents = discord.Intents.default()
    intents.message_content = True
    intents.members = True
    intents.voice_states = True
    return intents


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
    blocked_users: set[int]
    store: Store | None  # None until start-up wiring opens one (see bot.store.open_store)
    ffmpeg: str
    ffmpeg_stderr: IO[bytes] | None
    ffmpeg_standby: FfmpegStandby | None  # started at login (FFMPEG_STANDBY > 0), killed in close()

    def __init__(
        self,
        settings: Settings,
        *,
        extractor: Extractor,
        ffmpeg: str = "ffmpeg",
        ffmpeg_stderr: IO[bytes] | None = None,
        extensions: tuple[str, ...] = EXTENSIONS,
        **bot_kwargs: Any,
    ) -> None:
        bot_kwargs.setdefault("command_prefix", commands.when_mentioned_or(settings.command_prefix))
        bot_kwargs.setdefault("intents", bot_intents())
        bot_kwargs.setdefault("allowed_mentions", discord.AllowedMentions.none())
        bot_kwargs.setdefault("help_command", BrentHelp())
        bot_kwargs.setdefault("case_insensitive", True)
        if settings.owner_ids:
            bot_kwargs.setdefault("owner_ids", set(settings.owner_ids))
        super().__init__(**bot_kwargs)
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
        self.blocked_users = set()
        self.add_check(self._not_blocked)
        self.voice_connector = VoiceConnector(self)
        self._voice_clocks: VoiceClocks | None = None
        self.store = None
        self.ffmpeg_standby = None
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
        for name in self.extensions_to_load:
            try:
                await self.load_extension(name)
            except Exception as exc:
                self.failed_extensions[name] = exc
                log.exception("could not load extension %s; its commands are unavailable", name)
            else:
                log.info("loaded extension %s", name)

    async def _not_blocked(self, ctx: commands.Context[Any]) -> bool:
        """Blocked members are ignored without a reply, so blocking does not invite arguments."""
        if ctx.author.id in self.blocked_users:
            raise UserBlocked()
        return True

    def player_for(self, guild: discord.Guild | discord.Object) -> GuildPlayer:
        """The guild's player, made on first use with the configured limits and the bot's event bus."""
        player = self.players.get(guild.id)
        if player is None or player.closed:
            player = GuildPlayer(
                guild.id,
                extractor=self.extractor,
                loop=asyncio.get_running_loop(),
                queue=TrackQueue(max_length=self.settings.max_queue_length),
                events=self.player_events,
                volume=self.settings.default_volume,  # the configured default is not a change to report
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
        )
    return BrentBot(settings, extractor=extractor, ffmpeg=ffmpeg, ffmpeg_stderr=ffmpeg_stderr, **bot_kwargs)
