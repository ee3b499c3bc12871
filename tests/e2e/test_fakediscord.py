"""Self-tests of the loopback Discord, driven by a minimal real discord.py bot.

If these pass, the fake speaks the protocol well enough for discord.py 2.7.1 to log in, answer a
command over REST, join voice over TLS, negotiate encryption and stream audio that the fake
decrypts and decodes back into the tone that was played.
"""

from __future__ import annotations

import asyncio
import json
import struct
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import aiohttp
import discord
import numpy as np
import pytest
from discord.ext import commands

from tests.fakediscord import (
    FakeDiscord,
    FakeGuild,
    ScenarioMetrics,
    VoicePacket,
    VoiceRecorder,
    WaitTimeout,
    dominant_frequency,
    pointed_at,
    running,
    wait_for_bot,
)
from tests.fakediscord.recorder import SAMPLE_RATE
from tests.fakediscord.waiting import Notifier
from tests.media import MediaServer

TONE_SECONDS = 3.0
SHORT_SECONDS = 1.5

pytestmark = pytest.mark.e2e


def minimal_bot(fake: FakeDiscord, *, members_intent: bool = False, message_content: bool = True) -> commands.Bot:
    """The smallest bot that exercises the whole voice path: ``!play <url>`` and ``!leave``."""
    intents = discord.Intents.default()
    intents.message_content = message_content
    intents.members = members_intent
    bot = commands.Bot(
        command_prefix="!", intents=intents, connector=fake.connector(), guild_ready_timeout=0.1, help_command=None
    )
    bot.seen_contents = asyncio.Queue()  # type: ignore[attr-defined]

    @bot.listen("on_message")
    async def remember(message: discord.Message) -> None:
        if not message.author.bot:
            bot.seen_contents.put_nowait(message.content)  # type: ignore[attr-defined]

    @bot.command()
    async def play(ctx: commands.Context[commands.Bot], url: str) -> None:
        state = ctx.author.voice  # type: ignore[union-attr]
        if state is None or state.channel is None:
            await ctx.send("join a voice channel first")
            return
        voice = ctx.voice_client or await state.channel.connect()
        assert isinstance(voice, discord.VoiceClient)
        voice.play(discord.FFmpegPCMAudio(url, before_options="-nostdin", options="-vn"))
        await ctx.send("playing")

    @bot.command()
    async def move(ctx: commands.Context[commands.Bot], name: str) -> None:
        assert ctx.guild is not None and isinstance(ctx.voice_client, discord.VoiceClient)
        channel = discord.utils.get(ctx.guild.voice_channels, name=name)
        await ctx.voice_client.move_to(channel)
        await ctx.send(f"moved to {name}")

    @bot.command()
    async def leave(ctx: commands.Context[commands.Bot]) -> None:
        if ctx.voice_client is not None:
            await ctx.voice_client.disconnect(force=False)
        await ctx.send("bye")

    return bot


async def play_in(fake: FakeDiscord, guild: FakeGuild, url: str, member: str = "alice") -> float:
    """alice joins Music and types ``!play url``; returns when the bot said "playing" (command time)."""
    alice = guild.member(member)
    await fake.member_join_voice(guild, alice, guild.voice_channel)
    command = await fake.inject_message(guild, guild.text_channel, alice, f"!play {url}")
    await fake.wait_for_message(guild.text_channel, "playing", after=command)
    return command.sent_at


# --- login and text ----------------------------------------------------------------------------------


async def test_bot_logs_in_reaches_ready_and_sees_the_guild(fake_discord: FakeDiscord, fake_guild: FakeGuild) -> None:
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
        "Roles", members=("alice", "bob", "carol"), roles={"DJ": discord.Permissions(manage_channels=True).value},
        member_roles={"alice": ("DJ",)}, owner="carol",
    )
    bot = minimal_bot(fake_discord, members_intent=True)
    with pointed_at(fake_discord):
        async with running(bot):
            guild = bot.get_guild(guild_setup.id)
            assert guild is not None
            alice, bob, carol = (guild.get_member(guild_setup.member(n).id) for n in ("alice", "bob", "carol"))
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
        async with http.get(fake_discord.rest_url + "/api/v10/users/@me", headers={"Authorization": "Bot x"}) as resp:
            assert resp.status == 200
            assert resp.headers["Content-Type"] == "application/json"
            assert (await resp.json())["id"] == str(fake_discord.bot_user.id)
        async with http.get(fake_discord.rest_url + "/api/v10/users/@me") as resp:
            assert resp.status == 401


async def test_voice_gateway_refuses_an_identify_it_did_not_hand_out(fake_discord: FakeDiscord, fake_guild: FakeGuild) -> None:
    url = f"wss://{fake_discord.voice_endpoint}/?v=8"
    async with aiohttp.ClientSession(connector=fake_discord.connector()) as http, http.ws_connect(url) as ws:
        hello = await ws.receive_json(timeout=5)
        assert hello["op"] == 8 and hello["d"]["heartbeat_interval"] > 0
        await ws.send_json({"op": 0, "d": {"server_id": str(fake_guild.id), "user_id": str(fake_discord.bot_user.id),
                                           "session_id": "made-up", "token": "made-up", "max_dave_protocol_version": 1}})
        closing = await ws.receive(timeout=5)
        assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING)
        assert ws.close_code == 4004


async def test_udp_ip_discovery_answers_in_discords_74_byte_format(fake_discord: FakeDiscord) -> None:
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[bytes] = loop.create_future()

    class Client(asyncio.DatagramProtocol):
        def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
            answer.set_result(data)

    transport, _ = await loop.create_datagram_endpoint(Client, remote_addr=("127.0.0.1", fake_discord.voice.udp_port))
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


async def test_command_reply_is_recorded_and_awaitable(fake_discord: FakeDiscord, fake_guild: FakeGuild) -> None:
    bot = minimal_bot(fake_discord)
    with pointed_at(fake_discord):
        async with running(bot):
            bob = fake_guild.member("bob")
            command = await fake_discord.inject_message(fake_guild, fake_guild.text_channel, bob, "!play http://127.0.0.1:9/x.mp3")
            reply = await fake_discord.wait_for_message(fake_guild.text_channel, "voice channel first", after=command)
    assert reply["author"]["id"] == str(fake_discord.bot_user.id)
    posts = fake_discord.rest_calls("POST", f"/channels/{fake_guild.text_channel.id}/messages")
    assert [p.json["content"] for p in posts] == ["join a voice channel first"]
    assert bot.seen_contents.get_nowait() == "!play http://127.0.0.1:9/x.mp3"  # type: ignore[attr-defined]
    assert bot.seen_contents.empty()  # type: ignore[attr-defined]


async def test_injected_rest_failure_reaches_the_bot_as_forbidden(fake_discord: FakeDiscord, fake_guild: FakeGuild) -> None:
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


async def test_removing_the_bot_from_a_guild_reaches_it(fake_discord: FakeDiscord, fake_guild: FakeGuild) -> None:
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


async def test_wait_for_message_times_out_with_what_the_bot_said(fake_discord: FakeDiscord, fake_guild: FakeGuild) -> None:
    bot = minimal_bot(fake_discord)
    with pointed_at(fake_discord):
        async with running(bot):
            command = await fake_discord.inject_message(fake_guild, fake_guild.text_channel, fake_guild.member("bob"), "!play u")
            with pytest.raises(WaitTimeout, match="voice channel first"):
                await fake_discord.wait_for_message(fake_guild.text_channel, "something else", timeout=0.5, after=command)


async def test_without_message_content_intent_commands_arrive_blank(fake_discord: FakeDiscord, fake_guild: FakeGuild) -> None:
    bot = minimal_bot(fake_discord, message_content=False)
    with pointed_at(fake_discord):
        async with running(bot):
            alice = fake_guild.member("alice")
            await fake_discord.inject_message(fake_guild, fake_guild.text_channel, alice, "!leave")
            seen = await asyncio.wait_for(bot.seen_contents.get(), 5)  # type: ignore[attr-defined]
            await fake_discord.inject_message(fake_guild, fake_guild.text_channel, alice, f"{fake_discord.bot_user.mention} hi")
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


# --- voice -------------------------------------------------------------------------------------------


async def test_play_streams_the_tone_at_a_steady_20ms_pace(
    fake_discord: FakeDiscord, fake_guild: FakeGuild, e2e_media: MediaServer,
    record_metrics: Callable[[ScenarioMetrics], None],
) -> None:
    bot = minimal_bot(fake_discord)
    recorder = fake_discord.voice_log(fake_guild)
    with pointed_at(fake_discord):
        async with running(bot):
            t0 = await play_in(fake_discord, fake_guild, e2e_media.url("tone440.mp3"))
            await fake_discord.wait_for_bot_voice(fake_guild, fake_guild.voice_channel)
            await recorder.wait_for_silence(timeout=15, after=t0)
            assert fake_discord.bot_voice_channel(fake_guild) == fake_guild.voice_channel.id

    audio = recorder.audio_packets()
    assert recorder.errors == []
    assert abs(recorder.audio_seconds() - TONE_SECONDS) <= 0.1
    assert recorder.dominant_frequency() == pytest.approx(440, abs=1.0)
    assert recorder.dominant_frequency(0.5, 1.0) == pytest.approx(440, abs=3.0)
    assert recorder.sequence_breaks() == []
    assert audio[0].sequence == 1  # discord.py increments before the first packet
    assert all(b.timestamp - a.timestamp == 960 for a, b in zip(audio, audio[1:], strict=False))
    silences = [p.sequence for p in recorder.packets if p.silence]
    assert silences == list(range(audio[-1].sequence + 1, audio[-1].sequence + 6)), silences  # send_silence()
    stats = recorder.gap_stats()
    assert stats.p50_ms == pytest.approx(20.0, abs=1.0)
    assert any(e.speaking == 1 for e in recorder.speaking)
    metrics = fake_discord.metrics(fake_guild, t0)
    assert metrics.first_packet_latency_s is not None and 0 < metrics.first_packet_latency_s < 5
    record_metrics(metrics)
    # Leaving on close: the bot's op 4 with no channel is answered and tracked.
    assert fake_discord.bot_voice_channel(fake_guild) is None


async def test_without_decoding_the_fake_still_times_and_measures_the_stream(e2e_media: MediaServer) -> None:
    async with FakeDiscord(decode_audio=False) as fake:
        guild = fake.add_guild()
        bot = minimal_bot(fake)
        recorder = fake.voice_log(guild)
        with pointed_at(fake):
            async with running(bot):
                await play_in(fake, guild, e2e_media.url("short1.mp3"))
                await recorder.wait_for_silence(timeout=15)
    assert recorder.errors == []
    assert abs(recorder.audio_seconds() - SHORT_SECONDS) <= 0.1
    assert all(p.pcm == b"" and p.samples == 960 for p in recorder.audio_packets())
    assert recorder.sequence_breaks() == []
    assert recorder.gap_stats().p50_ms == pytest.approx(20.0, abs=1.0)


async def test_two_guilds_each_hear_only_their_own_tone(fake_discord: FakeDiscord, e2e_media: MediaServer) -> None:
    first = fake_discord.add_guild("First", members=("alice",))
    second = fake_discord.add_guild("Second", members=("alice",))
    bot = minimal_bot(fake_discord)
    with pointed_at(fake_discord):
        async with running(bot):
            await asyncio.gather(
                play_in(fake_discord, first, e2e_media.url("short1.mp3")),
                play_in(fake_discord, second, e2e_media.url("short3.mp3")),
            )
            await asyncio.gather(
                fake_discord.voice_log(first).wait_for_silence(timeout=15),
                fake_discord.voice_log(second).wait_for_silence(timeout=15),
            )
    for guild, freq, other in ((first, 500, 700), (second, 700, 500)):
        rec = fake_discord.voice_log(guild)
        assert abs(rec.audio_seconds() - SHORT_SECONDS) <= 0.1
        track = [hz for _, hz in rec.frequency_track(0.1)]
        assert all(abs(hz - freq) < 5 for hz in track[1:-1]), track
        assert _band_energy(rec, other) < 0.01 * _band_energy(rec, freq)
        assert rec.sequence_breaks() == []
    assert {p.ssrc for p in fake_discord.voice_log(first).packets}.isdisjoint(
        {p.ssrc for p in fake_discord.voice_log(second).packets}
    )


def _band_energy(rec: VoiceRecorder, freq: float, width: float = 20.0) -> float:
    mono = rec.pcm().astype(np.float64).mean(axis=1)
    spectrum = np.abs(np.fft.rfft(mono)) ** 2
    freqs = np.fft.rfftfreq(len(mono), 1 / SAMPLE_RATE)
    return float(spectrum[(freqs > freq - width) & (freqs < freq + width)].sum())


async def test_leave_command_clears_the_bot_voice_state(
    fake_discord: FakeDiscord, fake_guild: FakeGuild, e2e_media: MediaServer
) -> None:
    bot = minimal_bot(fake_discord)
    recorder = fake_discord.voice_log(fake_guild)
    with pointed_at(fake_discord):
        async with running(bot):
            await play_in(fake_discord, fake_guild, e2e_media.url("tone880.mp3"))
            await recorder.wait_for_audio(0.5)
            command = await fake_discord.inject_message(fake_guild, fake_guild.text_channel, fake_guild.member("alice"), "!leave")
            await fake_discord.wait_for_message(fake_guild.text_channel, "bye", after=command)
            await fake_discord.wait_for_bot_voice(fake_guild, None)
            await fake_discord.wait_until(lambda: not fake_discord.voice.active_sessions(fake_guild.id), 5, "voice ws closed")
            assert not bot.voice_clients
    assert recorder.audio_seconds() < 9  # cut short, not played to the end


async def test_moderator_disconnect_makes_the_bot_drop_its_voice_client(
    fake_discord: FakeDiscord, fake_guild: FakeGuild, e2e_media: MediaServer
) -> None:
    bot = minimal_bot(fake_discord)
    with pointed_at(fake_discord):
        async with running(bot):
            await play_in(fake_discord, fake_guild, e2e_media.url("tone880.mp3"))
            await fake_discord.voice_log(fake_guild).wait_for_audio(0.3)
            await fake_discord.disconnect_bot_from_voice(fake_guild)
            await wait_for_bot(lambda: not bot.voice_clients, 5, "the bot to drop its voice client")
            assert fake_discord.bot_voice_channel(fake_guild) is None
            assert not fake_discord.voice_sessions(fake_guild)


async def test_moving_the_bot_renegotiates_voice_and_audio_keeps_flowing(
    fake_discord: FakeDiscord, fake_guild: FakeGuild, e2e_media: MediaServer
) -> None:
    """A move (op 4 to another channel) gets VOICE_STATE_UPDATE + VOICE_SERVER_UPDATE and the old
    voice websocket closed with 4014; discord.py identifies a new voice session and streams on.

    discord.py 2.7.1 finishes such a move only after a 30 s ``select`` on its old UDP socket times
    out (nothing arrives there on a real server either), so this test pokes that socket once; see
    ``FakeDiscord.poke_old_voice_sockets``. A bot that moves itself in production will stall.
    """
    bot = minimal_bot(fake_discord)
    recorder = fake_discord.voice_log(fake_guild)
    lounge = fake_guild.channel("Lounge")
    with pointed_at(fake_discord):
        async with running(bot):
            await play_in(fake_discord, fake_guild, e2e_media.url("tone880.mp3"))
            await recorder.wait_for_audio(0.3)
            first_ssrc = recorder.audio_packets()[0].ssrc
            command = await fake_discord.inject_message(
                fake_guild, fake_guild.text_channel, fake_guild.member("alice"), "!move Lounge"
            )
            await fake_discord.wait_until(
                lambda: [s.ssrc for s in fake_discord.voice.active_sessions(fake_guild.id)] not in ([], [first_ssrc]),
                10, "a new voice session after the move",
            )
            await fake_discord.poke_old_voice_sockets(fake_guild)
            reply = await fake_discord.wait_for_message(fake_guild.text_channel, "moved to Lounge", 10, after=command)
            await fake_discord.wait_for_bot_voice(fake_guild, lounge)
            moved_at = fake_discord.message_time(reply)
            await recorder.wait_for_audio(0.5, after=moved_at)
            sessions = fake_discord.voice_sessions(fake_guild)
    assert len(sessions) == 1 and sessions[0].ssrc != first_ssrc
    assert {p.ssrc for p in recorder.audio_packets(after=moved_at)} == {sessions[0].ssrc}
    assert recorder.dominant_frequency(after=moved_at) == pytest.approx(880, abs=2.0)
    assert recorder.errors == []
    moves = [op.d for op in fake_discord.gateway_log if op.op == 4 and op.d["channel_id"] is not None]
    assert [int(d["channel_id"]) for d in moves] == [fake_guild.voice_channel.id, lounge.id]


async def test_a_dropped_voice_websocket_is_reopened_with_a_new_session(
    fake_discord: FakeDiscord, fake_guild: FakeGuild, e2e_media: MediaServer
) -> None:
    """Close code 4000 on the voice websocket: discord.py leaves, rejoins and identifies anew.

    Only the start of that is awaited: finishing it takes discord.py 2.7.1 up to 30 s, because its
    socket reader is parked in ``select`` on the UDP socket it just closed (see the README).
    """
    bot = minimal_bot(fake_discord)
    recorder = fake_discord.voice_log(fake_guild)
    with pointed_at(fake_discord):
        async with running(bot):
            await play_in(fake_discord, fake_guild, e2e_media.url("tone880.mp3"))
            await recorder.wait_for_audio(0.3)
            (before,) = fake_discord.voice_sessions(fake_guild)
            await fake_discord.drop_bot_voice(fake_guild, 4000)
            await fake_discord.wait_until(
                lambda: any(s is not before for s in fake_discord.voice.active_sessions(fake_guild.id)),
                15, "a new voice session",
            )
            assert fake_discord.bot_voice_channel(fake_guild) == fake_guild.voice_channel.id
            (after,) = fake_discord.voice_sessions(fake_guild)
    assert after.ssrc != before.ssrc and after.token != before.token
    ops = [(op.op, op.d["channel_id"]) for op in fake_discord.gateway_log if op.op == 4]
    channel = fake_guild.voice_channel.id
    assert [(o, None if c is None else int(c)) for o, c in ops][:3] == [(4, channel), (4, None), (4, channel)]


async def test_gateway_reconnect_resumes_and_commands_still_work(fake_discord: FakeDiscord, fake_guild: FakeGuild) -> None:
    bot = minimal_bot(fake_discord)
    with pointed_at(fake_discord):
        async with running(bot):
            await fake_discord.request_reconnect()
            await fake_discord.wait_until(lambda: fake_discord.gateway.resume_count == 1, 10, "a RESUME")
            command = await fake_discord.inject_message(fake_guild, fake_guild.text_channel, fake_guild.member("bob"), "!leave")
            await fake_discord.wait_for_message(fake_guild.text_channel, "bye", after=command)
    assert fake_discord.gateway.identify_count == 1
    assert [op.op for op in fake_discord.gateway_log].count(6) == 1


async def test_member_voice_moves_reach_the_bot(fake_discord: FakeDiscord, fake_guild: FakeGuild) -> None:
    bot = minimal_bot(fake_discord)
    seen: asyncio.Queue[tuple[str | None, str | None]] = asyncio.Queue()

    @bot.listen()
    async def on_voice_state_update(member: discord.Member, before: discord.VoiceState, after: discord.VoiceState) -> None:
        seen.put_nowait((before.channel and before.channel.name, after.channel and after.channel.name))

    alice = fake_guild.member("alice")
    with pointed_at(fake_discord):
        async with running(bot):
            await fake_discord.member_join_voice(fake_guild, alice, fake_guild.channel("Music"))
            assert await asyncio.wait_for(seen.get(), 5) == (None, "Music")
            await fake_discord.member_join_voice(fake_guild, alice, fake_guild.channel("Lounge"))
            assert await asyncio.wait_for(seen.get(), 5) == ("Music", "Lounge")
            await fake_discord.member_leave_voice(fake_guild, alice)
            assert await asyncio.wait_for(seen.get(), 5) == ("Lounge", None)
            member = bot.get_guild(fake_guild.id).get_member(alice.id)  # type: ignore[union-attr]
            assert member is None or member.voice is None
    assert fake_discord.member_voice_channel(fake_guild, alice) is None


# --- the real-process path ------------------------------------------------------------------------------

SUBPROCESS_BOT = textwrap.dedent(
    """
    import asyncio, sys
    import discord
    from discord.ext import commands

    intents = discord.Intents.default()
    intents.message_content = True
    bot = commands.Bot(command_prefix="!", intents=intents, guild_ready_timeout=0.1)

    @bot.event
    async def on_ready():
        print("READY", bot.user.id, flush=True)

    @bot.command()
    async def play(ctx, url):
        voice = await ctx.author.voice.channel.connect()
        voice.play(discord.FFmpegPCMAudio(url, before_options="-nostdin", options="-vn"),
                   after=lambda e: bot.loop.call_soon_threadsafe(bot.loop.create_task, bot.close()))
        await ctx.send("playing")

    bot.run(sys.argv[1], log_handler=None)
    """
)


async def test_unmodified_bot_process_is_redirected_by_sitecustomize(
    fake_discord: FakeDiscord, fake_guild: FakeGuild, e2e_media: MediaServer, tmp_path: Path
) -> None:
    """No connector, no patching in the bot: PYTHONPATH's sitecustomize and SSL_CERT_FILE do it all."""
    script = tmp_path / "bot_process.py"
    script.write_text(SUBPROCESS_BOT)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(script), "made.up.token",
        env=fake_discord.subprocess_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 20)
        assert line.decode().split() == ["READY", str(fake_discord.bot_user.id)]
        await play_in(fake_discord, fake_guild, e2e_media.url("short1.mp3"))
        rec = fake_discord.voice_log(fake_guild)
        await rec.wait_for_silence(timeout=15)
        _, stderr = await asyncio.wait_for(proc.communicate(), 20)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, stderr.decode()[-2000:]
    assert rec.errors == []
    assert rec.dominant_frequency() == pytest.approx(500, abs=1.0)
    assert abs(rec.audio_seconds() - SHORT_SECONDS) <= 0.1


def test_sitecustomize_refuses_non_loopback_urls(tmp_path: Path) -> None:
    from tests.fakediscord import SITECUSTOMIZE_DIR

    env = {"PYTHONPATH": str(SITECUSTOMIZE_DIR), "BRENT_FAKE_REST": "https://discord.com",
           "BRENT_FAKE_GATEWAY": "ws://127.0.0.1:1/", "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-c", "print('ran')"], env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    assert "refusing non-loopback" in result.stderr
    assert "ran" not in result.stdout


# --- recorder analysis on synthetic input ----------------------------------------------------------------


def _sine(freq: float, seconds: float, amplitude: float = 8000) -> np.ndarray:
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    mono = (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.int16)
    return np.stack([mono, mono], axis=1)


@pytest.mark.parametrize("freq", [300.0, 440.0, 512.5, 1000.0])
def test_dominant_frequency_is_sub_hertz_accurate(freq: float) -> None:
    assert dominant_frequency(_sine(freq, 0.5)) == pytest.approx(freq, abs=0.5)


def test_dominant_frequency_of_silence_is_nan() -> None:
    assert np.isnan(dominant_frequency(np.zeros((4800, 2), dtype=np.int16)))


async def test_gap_stats_skip_intended_pauses_but_count_stalls() -> None:
    loop = asyncio.get_running_loop()
    rec = VoiceRecorder(1, Notifier(loop))
    frame = _sine(440, 0.02).tobytes()
    times = [0.00, 0.02, 0.04, 0.10, 0.12]  # a 60 ms stall with contiguous sequence numbers
    for seq, t in enumerate(times, start=1):
        rec.add_packet(VoicePacket(t, seq, seq * 960, 7, False, frame))
    rec.add_packet(VoicePacket(0.13, 6, 0, 7, True, b""))  # pause: silence frame
    rec.add_packet(VoicePacket(5.00, 7, 7 * 960, 7, False, frame))
    rec.add_packet(VoicePacket(5.02, 9, 9 * 960, 7, False, frame))  # one lost packet
    stats = rec.gap_stats()
    assert stats.count == 5
    assert stats.max_ms == pytest.approx(60.0)
    assert stats.over_40ms == 1
    assert rec.sequence_breaks() == [(7, 9)]
    assert rec.first_audio_after(0.11) == rec.packets[4]
    assert rec.latency_after(0.11) == pytest.approx(0.01)
    assert rec.audio_seconds() == pytest.approx(0.14)
    assert rec.transitions() == [pytest.approx(5.00 - 0.12)]
    json.dumps(ScenarioMetrics(0.1, stats, 0.14, 8, 1, 0).as_dict())
