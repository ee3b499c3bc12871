"""Self-tests of the loopback Discord, driven by a minimal real discord.py bot.

If these pass, the fake speaks the protocol well enough for discord.py 2.7.1 to log in, answer a
command over REST, join voice over TLS, negotiate encryption and stream audio that the fake
decrypts and decodes back into the tone that was played.
"""

from __future__ import annotations

import asyncio
import struct

import aiohttp
import discord
import pytest
from discord.ext import commands

from tests.e2e.minimal_bot import minimal_bot
from tests.fakediscord import (
    FakeDiscord,
    FakeGuild,
    WaitTimeout,
    pointed_at,
    running,
    wait_for_bot,
)

pytestmark = pytest.mark.e2e


# --- login and text ----------------------------------------------------------------------------------


async def test_bot_logs_in_reaches_ready_and_sees_the_guild(
    fake_discord: FakeDiscord, fake_guild: FakeGuild
) -> None:
    bot = minimal_bot(fake_discord)
    with pointed_at(fake_discord):
        async with running(bot):
            assert bot.user is not None and bot.user.id == fake_discord.bot_user.id
            guild = bot.get_guild(fake_guild.id)
            assert guild is not None and guild.name == "Guild A"
            assert {c.name for c in guild.voice_channels} == {"Music", "Lounge"}
            assert guild.get_channel(fake_guild.text_channel.id) is not None
            assert guild.me is not None and guild.default_role.permissions.connect
    paths = [(c.method, c.path) for c in fake_discord.rest_log]
    assert ("GET", "/users/@me") in paths
    assert ("GET", "/oauth2/applications/@me") in paths
    identify = next(op for op in fake_discord.gateway_log if op.op == 2)
    assert identify.d["token"] == "fake.bot.token-for-tests"
    assert identify.d["intents"] & discord.Intents.message_content.flag
    assert not fake_discord.unhandled_rest_calls


async def test_roles_and_owner_reach_the_bot_as_permissions(fake_discord: FakeDiscord) -> None:
    guild_setup = fake_discord.add_guild(
        "Roles",
        members=("alice", "bob", "carol"),
        roles={"DJ": discord.Permissions(manage_channels=True).value},
        member_roles={"alice": ("DJ",)},
        owner="carol",
    )
    bot = minimal_bot(fake_discord, members_intent=True)
    with pointed_at(fake_discord):
        async with running(bot):
            guild = bot.get_guild(guild_setup.id)
            assert guild is not None
            alice, bob, carol = (
                guild.get_member(guild_setup.member(n).id) for n in ("alice", "bob", "carol")
            )
            assert alice is not None and bob is not None and carol is not None
            assert [r.name for r in alice.roles] == ["@everyone", "DJ"]
            assert alice.guild_permissions.manage_channels
            assert not bob.guild_permissions.manage_channels
            assert guild.owner_id == carol.id and carol.guild_permissions.administrator


async def test_pointed_at_restores_discord_urls(fake_discord: FakeDiscord) -> None:
    before = (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
    with pointed_at(fake_discord):
        assert fake_discord.rest_url + "/api/v10" == discord.http.Route.BASE
        assert str(discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY) == fake_discord.gateway_url
    assert before == (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
    assert before[0] == "https://discord.com/api/v10"


async def test_rest_answers_with_exact_json_content_type(fake_discord: FakeDiscord) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(
            fake_discord.rest_url + "/api/v10/users/@me", headers={"Authorization": "Bot x"}
        ) as resp:
            assert resp.status == 200
            assert resp.headers["Content-Type"] == "application/json"
            assert (await resp.json())["id"] == str(fake_discord.bot_user.id)
        async with http.get(fake_discord.rest_url + "/api/v10/users/@me") as resp:
            assert resp.status == 401


async def test_voice_gateway_refuses_an_identify_it_did_not_hand_out(
    fake_discord: FakeDiscord, fake_guild: FakeGuild
) -> None:
    url = f"wss://{fake_discord.voice_endpoint}/?v=8"
    async with aiohttp.ClientSession(connector=fake_discord.connector()) as http, http.ws_connect(url) as ws:
        hello = await ws.receive_json(timeout=5)
        assert hello["op"] == 8 and hello["d"]["heartbeat_interval"] > 0
        await ws.send_json(
            {
                "op": 0,
                "d": {
                    "server_id": str(fake_guild.id),
                    "user_id": str(fake_discord.bot_user.id),
                    "session_id": "made-up",
                    "token": "made-up",
                    "max_dave_protocol_version": 1,
                },
            }
        )
        closing = await ws.receive(timeout=5)
        assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING)
        assert ws.close_code == 4004


async def test_udp_ip_discovery_answers_in_discords_74_byte_format(fake_discord: FakeDiscord) -> None:
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[bytes] = loop.create_future()

    class Client(asyncio.DatagramProtocol):
        def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
            answer.set_result(data)

    transport, _ = await loop.create_datagram_endpoint(
        Client, remote_addr=("127.0.0.1", fake_discord.voice.udp_port)
    )
    try:
        transport.sendto(struct.pack(">HHI", 1, 70, 1234) + bytes(66))
        data = await asyncio.wait_for(answer, 5)
        own_port = transport.get_extra_info("sockname")[1]
    finally:
        transport.close()
    assert len(data) == 74 and data[1] == 0x02
    assert struct.unpack_from(">HHI", data) == (2, 70, 1234)
    assert data[8 : data.index(0, 8)] == b"127.0.0.1"
    assert struct.unpack_from(">H", data, 72)[0] == own_port


async def test_wrong_token_is_a_login_failure() -> None:
    async with FakeDiscord(require_token="the-right-one") as fake:
        fake.add_guild()
        bot = minimal_bot(fake)
        with pointed_at(fake), pytest.raises(discord.LoginFailure):
            async with running(bot, token="a-wrong-one"):
                pass


async def test_a_bot_that_dies_mid_test_is_reported(fake_discord: FakeDiscord, fake_guild: FakeGuild) -> None:
    bot = minimal_bot(fake_discord)

    def bot_task_done() -> bool:
        return all(t.done() for t in asyncio.all_tasks() if t.get_name() == "bot-under-test")

    with pointed_at(fake_discord), pytest.raises(RuntimeError, match="crashed") as caught:
        async with running(bot):
            await fake_discord.close_gateway(4004)  # "authentication failed": discord.py gives up
            await wait_for_bot(bot_task_done, 10, "the bot task to end")
    assert isinstance(caught.value.__cause__, discord.ConnectionClosed)
    assert caught.value.__cause__.code == 4004


async def test_command_reply_is_recorded_and_awaitable(
    fake_discord: FakeDiscord, fake_guild: FakeGuild
) -> None:
    bot = minimal_bot(fake_discord)
    with pointed_at(fake_discord):
        async with running(bot):
            bob = fake_guild.member("bob")
            command = await fake_discord.inject_message(
                fake_guild, fake_guild.text_channel, bob, "!play http://127.0.0.1:9/x.mp3"
            )
            reply = await fake_discord.wait_for_message(
                fake_guild.text_channel, "voice channel first", after=command
            )
    assert reply["author"]["id"] == str(fake_discord.bot_user.id)
    posts = fake_discord.rest_calls("POST", f"/channels/{fake_guild.text_channel.id}/messages")
    assert [p.json["content"] for p in posts] == ["join a voice channel first"]
    assert bot.seen_contents.get_nowait() == "!play http://127.0.0.1:9/x.mp3"  # type: ignore[attr-defined]
    assert bot.seen_contents.empty()  # type: ignore[attr-defined]


async def test_injected_rest_failure_reaches_the_bot_as_forbidden(
    fake_discord: FakeDiscord, fake_guild: FakeGuild
) -> None:
    bot = minimal_bot(fake_discord)
    errors: asyncio.Queue[BaseException] = asyncio.Queue()

    @bot.event
    async def on_command_error(ctx: commands.Context[commands.Bot], error: commands.CommandError) -> None:
        errors.put_nowait(getattr(error, "original", error))

    fake_discord.fail_rest("POST", f"/channels/{fake_guild.text_channel.id}/messages")
    with pointed_at(fake_discord):
        async with running(bot):
            bob = fake_guild.member("bob")
            await fake_discord.inject_message(fake_guild, fake_guild.text_channel, bob, "!play u")
            error = await asyncio.wait_for(errors.get(), 5)
            assert isinstance(error, discord.Forbidden) and error.code == 50013
            command = await fake_discord.inject_message(fake_guild, fake_guild.text_channel, bob, "!play u")
            await fake_discord.wait_for_message(fake_guild.text_channel, "voice channel first", after=command)
    assert len(fake_discord.bot_messages(fake_guild.text_channel)) == 1


async def test_removing_the_bot_from_a_guild_reaches_it(
    fake_discord: FakeDiscord, fake_guild: FakeGuild
) -> None:
    bot = minimal_bot(fake_discord)
    removed: asyncio.Queue[discord.Guild] = asyncio.Queue()

    @bot.event
    async def on_guild_remove(guild: discord.Guild) -> None:
        removed.put_nowait(guild)

    with pointed_at(fake_discord):
        async with running(bot):
            await fake_discord.remove_bot_from_guild(fake_guild)
            assert (await asyncio.wait_for(removed.get(), 5)).id == fake_guild.id
            assert bot.get_guild(fake_guild.id) is None


async def test_wait_for_message_times_out_with_what_the_bot_said(
    fake_discord: FakeDiscord, fake_guild: FakeGuild
) -> None:
    bot = minimal_bot(fake_discord)
    with pointed_at(fake_discord):
        async with running(bot):
            command = await fake_discord.inject_message(
                fake_guild, fake_guild.text_channel, fake_guild.member("bob"), "!play u"
            )
            with pytest.raises(WaitTimeout, match="voice channel first"):
                await fake_discord.wait_for_message(
                    fake_guild.text_channel, "something else", timeout=0.5, after=command
                )


async def test_without_message_content_intent_commands_arrive_blank(
    fake_discord: FakeDiscord, fake_guild: FakeGuild
) -> None:
    bot = minimal_bot(fake_discord, message_content=False)
    with pointed_at(fake_discord):
        async with running(bot):
            alice = fake_guild.member("alice")
            await fake_discord.inject_message(fake_guild, fake_guild.text_channel, alice, "!leave")
            seen = await asyncio.wait_for(bot.seen_contents.get(), 5)  # type: ignore[attr-defined]
            await fake_discord.inject_message(
                fake_guild, fake_guild.text_channel, alice, f"{fake_discord.bot_user.mention} hi"
            )
            mentioned = await asyncio.wait_for(bot.seen_contents.get(), 5)  # type: ignore[attr-defined]
    assert seen == ""
    assert mentioned == f"<@{fake_discord.bot_user.id}> hi"
    assert not fake_discord.rest_calls("POST")


async def test_members_intent_chunking_is_answered(fake_discord: FakeDiscord, fake_guild: FakeGuild) -> None:
    bot = minimal_bot(fake_discord, members_intent=True)
    with pointed_at(fake_discord):
        async with running(bot):
            guild = bot.get_guild(fake_guild.id)
            assert guild is not None and guild.chunked
            assert {m.name for m in guild.members} == {"Brent", "alice", "bob"}
    assert any(op.op == 8 for op in fake_discord.gateway_log)
