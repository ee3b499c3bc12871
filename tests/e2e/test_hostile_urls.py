"""Hostile links typed into Discord, through the whole bot, against the default URL policy.

Every target here is this machine (loopback in its many spellings) or not a network address at all;
the loopback media server must record zero requests for them. Addresses off this machine are tested
at the URL-policy level only, with name resolution stubbed (tests/audio/test_url_policy.py).
"""

from __future__ import annotations

import pytest

from audio import url_policy
from audio.extractor import MSG_LOCAL_PATH
from tests.e2e.brent_rig import Member, StartBrent
from tests.fakediscord import FakeDiscord
from tests.media import MediaServer

pytestmark = pytest.mark.e2e

REFUSALS = {
    url_policy.MSG_TOO_LONG, url_policy.MSG_MALFORMED, url_policy.MSG_SCHEME, url_policy.MSG_USERINFO,
    url_policy.MSG_LOOPBACK, url_policy.MSG_PRIVATE, url_policy.MSG_NOT_PUBLIC, MSG_LOCAL_PATH,
    url_policy.MSG_NAME_NOT_PUBLIC,
}


def loopback_forms(port: int) -> list[str]:
    path = "tone440.mp3"
    return [
        f"http://127.0.0.1:{port}/{path}",
        f"https://127.0.0.1:{port}/{path}",
        f"http://localhost:{port}/{path}",
        f"http://127.1:{port}/{path}",
        f"http://2130706433:{port}/{path}",
        f"http://0x7f000001:{port}/{path}",
        f"http://0x7f.0.0.1:{port}/{path}",
        f"http://017700000001:{port}/{path}",
        f"http://0177.0.0.1:{port}/{path}",
        f"http://[::1]:{port}/{path}",
        f"http://[::ffff:127.0.0.1]:{port}/{path}",
        f"http://[::ffff:7f00:1]:{port}/{path}",
        f"http://user:secret@127.0.0.1:{port}/{path}",
        f"<http://127.0.0.1:{port}/{path}>",
        f"http://127.0.0.1:{port}/{path}#.youtube.com",
        f"ftp://127.0.0.1:{port}/{path}",
        f"gopher://127.0.0.1:{port}/_GET",
        "file:///etc/passwd",
        "file:/etc/passwd",
        "concat:/etc/passwd|/etc/hosts",
        "subfile,,start,0,end,0,,:/etc/passwd",
        "data:audio/mpeg;base64,SUQzBAAAAAAAI1RTU0UAAAAPAAADTGF2ZjU4Ljc2LjEwMAAAAAAAAAAAAAAA",
        "/etc/passwd",
        "~/credentials.env",
        "./credentials.env",
        "http://" + "a" * 2500 + ".com/x.mp3",
        "http://[::1",
        "http://:80/x.mp3",
    ]


async def test_hostile_links_are_refused_with_a_reply_and_never_fetched(
    start_brent: StartBrent, alice: Member, e2e_media: MediaServer, fake_discord: FakeDiscord
) -> None:
    forms = loopback_forms(e2e_media.port)
    assert len(forms) >= 28
    async with start_brent(allow_private_network=False, play_cooldown=(1000, 1.0)) as bot:
        await alice.join_voice()
        for text in forms:
            sent = await alice.say(f"play {text}")
            reply = await fake_discord.wait_for_message(alice.guild.text_channel, "", 15, after=sent)
            content = reply["content"]
            assert content in REFUSALS, (text, content)
        player = bot.players.get(alice.guild.id)
        assert player is None or (player.current is None and len(player.queue) == 0)
    assert e2e_media.request_count() == 0


async def test_an_hls_playlist_pointing_at_local_files_is_not_played(
    start_brent: StartBrent, alice: Member, e2e_media: MediaServer, fake_discord: FakeDiscord
) -> None:
    """Even with ALLOW_PRIVATE_NETWORK (a self-hoster's LAN media server), an m3u8 is no way into files."""
    playlist = e2e_media.root / "evil.m3u8"
    playlist.write_text(
        "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nfile:///etc/passwd\n"
        "#EXTINF:10,\nconcat:/etc/passwd|/etc/hosts\n#EXT-X-ENDLIST\n"
    )
    recorder = fake_discord.voice_log(alice.guild)
    async with start_brent(allow_private_network=True):
        await alice.join_voice()
        sent = await alice.say(f"play {e2e_media.url('evil.m3u8')}")
        reply = await fake_discord.wait_for_message(alice.guild.text_channel, "", 15, after=sent)
        assert not reply["content"].startswith(("Playing", "Queued")), reply["content"]
    assert recorder.audio_packets() == []
    assert {r.path for r in e2e_media.requests} <= {"/evil.m3u8"}
