"""The baseline every audio figure is a ratio to: a bot written the way discord.py's
``examples/basic_voice.py`` plays a URL.

Kept deliberately naive, because that is what it measures: yt-dlp's ``extract_info`` in the loop's
default thread pool (``loop.run_in_executor(None, ...)``), ``FFmpegPCMAudio`` on the stream URL
with the example's options, joining voice before the lookup starts (the example's
``ensure_voice`` ``before_invoke`` hook), and a plain list as the queue whose next entry is looked
up only when the current one has ended (``after`` -> ``run_coroutine_threadsafe``), so nothing is
prefetched. The example replaces the playing track on ``play``; a music bot queues, so this one
queues, in the simplest way. ``allowed_extractors`` and the loopback address are the only things
added: the same media server must be reachable and nothing else.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import discord
import yt_dlp
from discord.ext import commands

log = logging.getLogger(__name__)

# basic_voice.py's options, minus outtmpl/restrictfilenames (nothing is downloaded: stream=True).
YTDL_FORMAT_OPTIONS: dict[str, Any] = {
    "format": "bestaudio/best",
    "noplaylist": True,
    "nocheckcertificate": True,
    "ignoreerrors": False,
    "logtostderr": False,
    "quiet": True,
    "no_warnings": True,
    "default_search": "auto",
    "source_address": "0.0.0.0",  # noqa: S104  (the example binds IPv4; traffic still goes to 127.0.0.1)
    "allowed_extractors": ["generic"],
}
FFMPEG_OPTIONS: dict[str, Any] = {"options": "-vn"}

ytdl = yt_dlp.YoutubeDL(YTDL_FORMAT_OPTIONS)


class YTDLSource(discord.PCMVolumeTransformer[discord.FFmpegPCMAudio]):
    def __init__(self, source: discord.FFmpegPCMAudio, *, data: dict[str, Any], volume: float = 0.5) -> None:
        super().__init__(source, volume)
        self.data = data
        self.title = data.get("title")
        self.url = data.get("url")

    @classmethod
    async def from_url(cls, url: str, *, loop: asyncio.AbstractEventLoop | None = None, stream: bool = False) -> YTDLSource:
        loop = loop or asyncio.get_event_loop()
        data = await loop.run_in_executor(None, lambda: ytdl.extract_info(url, download=not stream))
        assert isinstance(data, dict)
        if "entries" in data:
            data = data["entries"][0]
        filename = data["url"] if stream else ytdl.prepare_filename(data)
        return cls(discord.FFmpegPCMAudio(filename, **FFMPEG_OPTIONS), data=data)


class Music(commands.Cog):
    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot
        self.queues: dict[int, list[str]] = {}
        self.loading: set[int] = set()  # a lookup for the first track is running: later plays queue

    @commands.command()
    async def join(self, ctx: commands.Context[Any], *, channel: discord.VoiceChannel) -> None:
        """Joins a voice channel"""
        if ctx.voice_client is not None:
            await ctx.voice_client.move_to(channel)  # type: ignore[attr-defined]
            return
        await channel.connect()

    @commands.command()
    async def play(self, ctx: commands.Context[Any], *, url: str) -> None:
        """Streams from a url; queues it if something is playing."""
        assert ctx.guild is not None and isinstance(ctx.voice_client, discord.VoiceClient)
        queue = self.queues.setdefault(ctx.guild.id, [])
        if ctx.voice_client.is_playing() or queue or ctx.guild.id in self.loading:
            queue.append(url)
            await ctx.send(f"Queued at #{len(queue)}")
            return
        self.loading.add(ctx.guild.id)
        try:
            async with ctx.typing():
                player = await YTDLSource.from_url(url, loop=self.bot.loop, stream=True)
                ctx.voice_client.play(player, after=lambda e: self._after(ctx, e))
        finally:
            self.loading.discard(ctx.guild.id)
        await ctx.send(f"Now playing: {player.title}")

    def _after(self, ctx: commands.Context[Any], error: Exception | None) -> None:
        if error:
            print(f"Player error: {error}")
        asyncio.run_coroutine_threadsafe(self._play_next(ctx), self.bot.loop)

    async def _play_next(self, ctx: commands.Context[Any]) -> None:
        assert ctx.guild is not None
        queue = self.queues.get(ctx.guild.id)
        voice = ctx.voice_client
        if not queue or not isinstance(voice, discord.VoiceClient) or not voice.is_connected():
            return
        url = queue.pop(0)
        player = await YTDLSource.from_url(url, loop=self.bot.loop, stream=True)
        voice.play(player, after=lambda e: self._after(ctx, e))

    @commands.command()
    async def stop(self, ctx: commands.Context[Any]) -> None:
        """Stops and disconnects the bot from voice"""
        assert ctx.guild is not None and ctx.voice_client is not None
        self.queues.pop(ctx.guild.id, None)
        await ctx.voice_client.disconnect(force=False)
        await ctx.send("Stopped")

    @play.before_invoke
    async def ensure_voice(self, ctx: commands.Context[Any]) -> None:
        if ctx.voice_client is None:
            author = ctx.author
            if isinstance(author, discord.Member) and author.voice and author.voice.channel:
                await author.voice.channel.connect()
            else:
                await ctx.send("You are not connected to a voice channel.")
                raise commands.CommandError("Author not connected to a voice channel.")


def create_baseline_bot(prefix: str, **bot_kwargs: Any) -> commands.Bot:
    """basic_voice.py's bot: default intents plus message content, its Music cog added on setup."""
    intents = discord.Intents.default()
    intents.message_content = True

    class BaselineBot(commands.Bot):
        async def setup_hook(self) -> None:
            await self.add_cog(Music(self))

    return BaselineBot(command_prefix=commands.when_mentioned_or(prefix), intents=intents,
                       description="basic_voice.py baseline", **bot_kwargs)
