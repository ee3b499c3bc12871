from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import discord
import discord.ext.test as dpytest
import pytest
from discord.ext import commands

from audio.errors import QueueError
from audio.player import LoopMode
from bot.bot import BrentBot, create_bot
from bot.converters import LoopModeConverter, Volume
from bot.errors import APOLOGY, CheckRefused
from bot.settings import Settings

SECRET_DETAIL = "https://rr3---sn.googlevideo.com/videoplayback?ip=203.0.113.9"


def refuse_private(ctx: commands.Context[Any]) -> bool:
    raise commands.NoPrivateMessage()


def refuse_with_reason(ctx: commands.Context[Any]) -> bool:
    raise CheckRefused("Only the DJ can do that.")


class Trouble(commands.Cog):
    @commands.command()
    async def boom(self, ctx: commands.Context[Any]) -> None:
        raise RuntimeError(f"ffmpeg died reading {SECRET_DETAIL}")

    @commands.command()
    async def remove(self, ctx: commands.Context[Any], position: int) -> None:
        raise QueueError(f"There is no track #{position} in the queue.", detail=SECRET_DETAIL)

    @commands.command()
    async def ping_all(self, ctx: commands.Context[Any]) -> None:
        raise QueueError("@everyone the queue is empty <@&123456789012345678>")

    @commands.command()
    async def volume(self, ctx: commands.Context[Any], percent: Volume) -> None:
        await ctx.send(f"volume {percent}")

    @commands.command()
    async def optvol(self, ctx: commands.Context[Any], percent: Volume | None = None) -> None:
        await ctx.send(f"volume {percent}")

    @commands.command()
    async def loop(self, ctx: commands.Context[Any], mode: LoopModeConverter) -> None:
        assert isinstance(mode, LoopMode)
        await ctx.send(f"loop {mode.value}")

    @commands.command()
    async def later(self, ctx: commands.Context[Any]) -> None:
        await ctx.send("ok")

    later.add_check(refuse_private)

    @commands.command()
    async def dj(self, ctx: commands.Context[Any]) -> None:
        await ctx.send("ok")

    dj.add_check(refuse_with_reason)

    @commands.command()
    @commands.cooldown(1, 60, commands.BucketType.user)
    async def slow(self, ctx: commands.Context[Any]) -> None:
        await ctx.send("ok")

    @commands.command()
    @commands.is_owner()
    async def owner(self, ctx: commands.Context[Any]) -> None:
        await ctx.send("ok")


@pytest.fixture
async def bot(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[BrentBot]:
    made = create_bot(Settings(owner_ids=frozenset({999999999999999999})), extensions=())
    await made._async_setup_hook()
    await made.add_cog(Trouble())
    dpytest.configure(made)
    sent_kwargs: list[dict[str, Any]] = []
    original = discord.abc.Messageable.send

    async def recording_send(self: Any, *args: Any, **kwargs: Any) -> Any:
        sent_kwargs.append(kwargs)
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(discord.abc.Messageable, "send", recording_send)
    made.sent_kwargs = sent_kwargs  # type: ignore[attr-defined]
    yield made
    await dpytest.empty_queue()
    made.extractor.close()  # not bot.close(): dpytest's fake websocket cannot be closed


def no_mentions(bot: BrentBot) -> bool:
    mentions = bot.sent_kwargs[-1].get("allowed_mentions")  # type: ignore[attr-defined]
    return mentions is not None and mentions.to_dict() == discord.AllowedMentions.none().to_dict()


async def run(content: str, error: type[BaseException]) -> discord.Message | None:
    """Send a command; dpytest re-raises the error after our handler has replied."""
    with pytest.raises(error):
        await dpytest.message(content)
    return None if dpytest.sent_queue.empty() else dpytest.get_message()


async def test_unexpected_error_is_logged_with_context_and_user_gets_the_apology(
    bot: BrentBot, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="bot.errors"):
        reply = await run("\\boom", commands.CommandInvokeError)
    assert reply is not None and reply.content == APOLOGY
    assert "googlevideo" not in reply.content
    record = next(r for r in caplog.records if r.name == "bot.errors")
    assert "'boom'" in record.getMessage()
    assert str(dpytest.get_config().guilds[0].id) in record.getMessage()
    assert record.exc_info is not None and isinstance(record.exc_info[1], RuntimeError)
    assert no_mentions(bot)


async def test_brent_error_replies_with_its_user_message_only(bot: BrentBot) -> None:
    reply = await run("\\remove 9", commands.CommandInvokeError)
    assert reply is not None
    assert reply.content == "There is no track #9 in the queue."
    assert no_mentions(bot)


async def test_mentions_in_a_user_message_are_neutralised(bot: BrentBot) -> None:
    reply = await run("\\ping_all", commands.CommandInvokeError)
    assert reply is not None
    assert "@everyone" not in reply.content and "<@&1" not in reply.content
    assert "the queue is empty" in reply.content


async def test_converter_message_and_usage(bot: BrentBot) -> None:
    reply = await run("\\volume loud", commands.BadArgument)
    assert reply is not None
    assert reply.content.startswith("`loud` is not a volume. Give a number from 0 to 200.")
    assert "Usage: `\\volume <percent>`" in reply.content


async def test_missing_argument_names_it(bot: BrentBot) -> None:
    reply = await run("\\volume", commands.MissingRequiredArgument)
    assert reply is not None
    assert reply.content.startswith("Missing `percent`.")


async def test_builtin_bad_argument_is_short_and_safe(bot: BrentBot) -> None:
    reply = await run("\\remove @everyone", commands.BadArgument)
    assert reply is not None
    assert "@everyone" not in reply.content
    assert "Usage:" in reply.content


async def test_unknown_command_far_from_every_name_is_ignored(bot: BrentBot) -> None:
    reply = await run("\\xyzzyq", commands.CommandNotFound)
    assert reply is None


async def test_unknown_command_close_to_one_names_it(bot: BrentBot) -> None:
    reply = await run("\\volme", commands.CommandNotFound)
    assert reply is not None and "Did you mean `\\volume`" in reply.content


async def test_no_private_message_check(bot: BrentBot) -> None:
    reply = await run("\\later", commands.NoPrivateMessage)
    assert reply is not None and reply.content == "That command only works in a server."


async def test_check_refused_shows_its_reason(bot: BrentBot) -> None:
    reply = await run("\\dj", CheckRefused)
    assert reply is not None and reply.content == "Only the DJ can do that."


async def test_not_owner(bot: BrentBot) -> None:
    reply = await run("\\owner", commands.NotOwner)
    assert reply is not None and reply.content == "Only the bot's owner can use that command."


async def test_cooldown_gives_the_wait(bot: BrentBot) -> None:
    await dpytest.message("\\slow")
    assert dpytest.get_message().content == "ok"
    reply = await run("\\slow", commands.CommandOnCooldown)
    assert reply is not None
    assert reply.content.startswith("Slow down: try that again in ")
    assert reply.content.endswith("s.")
    seconds = int(reply.content.removeprefix("Slow down: try that again in ").removesuffix("s."))
    assert 55 <= seconds <= 60


async def test_converters_work_as_command_annotations(bot: BrentBot) -> None:
    await dpytest.message("\\volume 50%")
    assert dpytest.get_message().content == "volume 50"
    await dpytest.message("\\optvol 7")
    assert dpytest.get_message().content == "volume 7"
    await dpytest.message("\\optvol")
    assert dpytest.get_message().content == "volume None"
    await dpytest.message("\\loop song")
    assert dpytest.get_message().content == "loop track"
    reply = await run("\\loop sometimes", commands.BadArgument)
    assert reply is not None and reply.content.startswith("Loop mode must be `off`, `track` or `queue`.")
