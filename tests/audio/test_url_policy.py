"""UrlPolicy: every hostile link is refused with the right reason; real providers pass.

Every test here talks to UrlPolicy only, never yt-dlp or FFmpeg, and names that are not
this machine's are answered by a stub resolver, so even a broken guard sends nothing anywhere.
"""

from __future__ import annotations

import ipaddress
import socket

import pytest

from audio.errors import UrlRefused
from audio.track import Provider
from audio.url_policy import (
    DEFAULT_PROVIDERS,
    MSG_LINK_LOCAL,
    MSG_LOOPBACK,
    MSG_MALFORMED,
    MSG_MEDIA,
    MSG_NAME_NOT_PUBLIC,
    MSG_NOT_PUBLIC,
    MSG_PRIVATE,
    MSG_SCHEME,
    MSG_TOO_LONG,
    MSG_USERINFO,
    UrlPolicy,
    parse_numeric_host,
    provider_message,
    system_resolver,
)

PUBLIC_V4 = "93.184.215.14"
PUBLIC_V6 = "2606:2800:21f:cb07:6820:80da:af6b:8b2c"

# Stub DNS: what the names "resolve" to. Anything not listed is NXDOMAIN.
STUB_DNS: dict[str, list[str]] = {
    "youtube.com": [PUBLIC_V4],
    "www.youtube.com": [PUBLIC_V4, PUBLIC_V6],
    "m.youtube.com": [PUBLIC_V4],
    "music.youtube.com": [PUBLIC_V4],
    "youtu.be": [PUBLIC_V4],
    "soundcloud.com": [PUBLIC_V4],
    "on.soundcloud.com": [PUBLIC_V4],
    "artist.bandcamp.com": [PUBLIC_V4],
    "files.example.org": [PUBLIC_V4],
    "rr5---sn-4g5lznez.googlevideo.com": [PUBLIC_V4],
    "intranet.example.org": ["10.0.0.7"],
    "metadata.example.org": ["169.254.169.254"],
    "rebind.example.org": [PUBLIC_V4, "127.0.0.1"],  # one bad record among good ones
    "mapped.example.org": ["::ffff:192.168.1.1"],
    "cgnat.example.org": ["100.72.0.9"],
    "ula.example.org": ["fd12:3456::1"],
    "localhost": ["127.0.0.1", "::1"],
    "garbage.example.org": ["not-an-address"],
    "news.example.org": [PUBLIC_V4],
}


class StubResolver:
    """Answers from STUB_DNS and remembers what it was asked (so tests see no lookup happened)."""

    def __init__(self, table: dict[str, list[str]] | None = None) -> None:
        self.table = STUB_DNS if table is None else table
        self.asked: list[str] = []

    def __call__(self, host: str) -> list[str]:
        self.asked.append(host)
        return list(self.table.get(host, []))


@pytest.fixture
def policy_resolver() -> StubResolver:
    return StubResolver()


@pytest.fixture
def policy(policy_resolver: StubResolver) -> UrlPolicy:
    return UrlPolicy(resolver=policy_resolver)


SUPPORTED = provider_message(DEFAULT_PROVIDERS)

# (hostile input, the user message it must be refused with)
HOSTILE: list[tuple[str, str]] = [
    ("file:///etc/passwd", MSG_SCHEME),
    ("FILE:///C:/Windows/win.ini", MSG_SCHEME),
    ("concat:/etc/passwd|/etc/hosts", MSG_SCHEME),
    ("data:audio/mp3;base64,SUQzBAAAAAAA", MSG_SCHEME),
    ("/etc/passwd", MSG_SCHEME),
    ("../../secrets/token.mp3", MSG_SCHEME),
    ("ftp://files.example.org/song.mp3", MSG_SCHEME),
    ("javascript:alert(1)", MSG_SCHEME),
    ("gopher://127.0.0.1:6379/_FLUSHALL", MSG_SCHEME),
    ("subfile,,start,0,end,0,,:/etc/passwd", MSG_SCHEME),
    ("https://user:hunter2@www.youtube.com/watch?v=dQw4w9WgXcQ", MSG_USERINFO),
    ("https://www.youtube.com@127.0.0.1/watch?v=x", MSG_USERINFO),
    ("http://evil.example@files.example.org/song.mp3", MSG_USERINFO),
    ("http://127.0.0.1/song.mp3", MSG_LOOPBACK),
    ("http://localhost:8080/song.mp3", MSG_NAME_NOT_PUBLIC),
    ("http://2130706433/song.mp3", MSG_LOOPBACK),
    ("http://0x7f.1/song.mp3", MSG_LOOPBACK),
    ("http://0x7f000001/song.mp3", MSG_LOOPBACK),
    ("http://017700000001/song.mp3", MSG_LOOPBACK),
    ("http://0177.0.0.1/song.mp3", MSG_LOOPBACK),
    ("http://127.1/song.mp3", MSG_LOOPBACK),
    ("http://127.0.1/", MSG_LOOPBACK),
    ("http://[::1]/song.mp3", MSG_LOOPBACK),
    ("http://[::ffff:127.0.0.1]/song.mp3", MSG_LOOPBACK),
    ("http://[::ffff:7f00:1]:8000/song.mp3", MSG_LOOPBACK),
    ("http://[2002:7f00:1::]/song.mp3", MSG_NOT_PUBLIC),  # 6to4 is refused outright, never decoded
    ("http://10.0.0.5/song.mp3", MSG_PRIVATE),
    ("http://172.16.3.4/song.mp3", MSG_PRIVATE),
    ("http://192.168.1.1/song.mp3", MSG_PRIVATE),
    ("http://100.64.0.1/song.mp3", MSG_PRIVATE),
    ("http://[fd00::1]/song.mp3", MSG_PRIVATE),
    ("http://[fc00::abcd]/song.mp3", MSG_PRIVATE),
    ("http://[::ffff:10.1.2.3]/song.mp3", MSG_PRIVATE),
    ("http://[64:ff9b::192.168.0.1]/song.mp3", MSG_PRIVATE),
    ("http://169.254.169.254/latest/meta-data/", MSG_LINK_LOCAL),
    ("http://0xa9fea9fe/latest/meta-data/", MSG_LINK_LOCAL),
    ("http://[fe80::1]/song.mp3", MSG_LINK_LOCAL),
    ("http://[fe80::1%25eth0]/song.mp3", MSG_LINK_LOCAL),
    ("http://0.0.0.0/song.mp3", MSG_NOT_PUBLIC),
    ("http://0/song.mp3", MSG_NOT_PUBLIC),
    ("http://224.0.0.1/song.mp3", MSG_NOT_PUBLIC),
    ("http://240.0.0.1/song.mp3", MSG_NOT_PUBLIC),
    ("http://intranet.example.org/song.mp3", MSG_NAME_NOT_PUBLIC),
    ("http://metadata.example.org/song.mp3", MSG_NAME_NOT_PUBLIC),
    ("http://rebind.example.org/song.mp3", MSG_NAME_NOT_PUBLIC),
    ("http://mapped.example.org/song.mp3", MSG_NAME_NOT_PUBLIC),
    ("http://cgnat.example.org/song.mp3", MSG_NAME_NOT_PUBLIC),
    ("http://ula.example.org/song.mp3", MSG_NAME_NOT_PUBLIC),
    ("https://nxdomain.example.org/song.mp3", MSG_NAME_NOT_PUBLIC),
    ("https://garbage.example.org/song.mp3", MSG_NAME_NOT_PUBLIC),
    ("https://www.youtube.com/watch?v=" + "a" * 2000, MSG_TOO_LONG),
    ("http://256.0.0.1/song.mp3", MSG_MALFORMED),
    ("http://1.2.3.4.5/song.mp3", MSG_MALFORMED),
    ("http://0x1ffffffff/song.mp3", MSG_MALFORMED),
    ("http://08.0.0.1/song.mp3", MSG_MALFORMED),
    ("http://[::1/song.mp3", MSG_MALFORMED),
    ("http://files.example.org:99999/song.mp3", MSG_MALFORMED),
    ("http:///song.mp3", MSG_MALFORMED),
    ("https:youtube.com/watch?v=x", MSG_MALFORMED),
    ("http://files.example.org/so ng.mp3", MSG_MALFORMED),
    ("http://files.example.org\\@127.0.0.1/song.mp3", MSG_MALFORMED),
    ("http://files.example.org/song.mp3\r\nX-Injected: 1", MSG_MALFORMED),
    ("", MSG_MALFORMED),
    ("https://news.example.org/article", SUPPORTED),
    ("https://youtube.com.evil.example/watch?v=x", SUPPORTED),
    ("https://notyoutube.com/watch?v=x", SUPPORTED),
    ("https://files.example.org/song.exe", SUPPORTED),
    ("https://files.example.org/playlist.m3u8", SUPPORTED),
]


def test_hostile_table_is_big_enough() -> None:
    assert len(HOSTILE) >= 30
    assert len({url for url, _ in HOSTILE}) == len(HOSTILE)


@pytest.mark.parametrize(("url", "message"), HOSTILE, ids=[u[:60] for u, _ in HOSTILE])
def test_hostile_input_refused_with_reason(policy: UrlPolicy, url: str, message: str) -> None:
    with pytest.raises(UrlRefused) as refused:
        policy.check_user_url(url)
    assert refused.value.user_message == message


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/song.mp3",
        "http://2130706433/song.mp3",
        "http://0x7f.1/song.mp3",
        "http://017700000001/song.mp3",
        "http://[::ffff:127.0.0.1]/song.mp3",
        "http://169.254.169.254/latest/meta-data/",
    ],
)
def test_numeric_hosts_are_refused_without_any_lookup(policy: UrlPolicy, policy_resolver: StubResolver, url: str) -> None:
    with pytest.raises(UrlRefused):
        policy.check_user_url(url)
    assert policy_resolver.asked == []


def test_unknown_provider_refused_before_any_lookup(policy: UrlPolicy, policy_resolver: StubResolver) -> None:
    with pytest.raises(UrlRefused):
        policy.check_user_url("https://news.example.org/article")
    assert policy_resolver.asked == []


ACCEPTED: list[tuple[str, Provider]] = [
    ("https://www.youtube.com/watch?v=dQw4w9WgXcQ", Provider.YOUTUBE),
    ("https://youtube.com/playlist?list=PLlaN88a7y2_plecYoJxvRFTLHVbIVAOoc", Provider.YOUTUBE),
    ("https://m.youtube.com/watch?v=dQw4w9WgXcQ&t=42", Provider.YOUTUBE),
    ("https://music.youtube.com/watch?v=dQw4w9WgXcQ", Provider.YOUTUBE),
    ("https://youtu.be/dQw4w9WgXcQ?si=abc", Provider.YOUTUBE),
    ("HTTPS://WWW.YOUTUBE.COM./watch?v=dQw4w9WgXcQ", Provider.YOUTUBE),
    ("https://soundcloud.com/nightfall-audio/midnight-drive-extended-mix", Provider.SOUNDCLOUD),
    ("https://on.soundcloud.com/AbCdEf", Provider.SOUNDCLOUD),
    ("https://artist.bandcamp.com/track/some-song", Provider.BANDCAMP),
    ("https://files.example.org/song.mp3", Provider.DIRECT),
    ("https://files.example.org/music/Song%20Name.FLAC?dl=1", Provider.DIRECT),
    ("http://files.example.org:8080/a/b/c.opus", Provider.DIRECT),
    ("https://files.example.org/x.webm#t=10", Provider.DIRECT),
    ("http://93.184.215.14/song.ogg", Provider.DIRECT),
    (f"http://[{PUBLIC_V6}]/song.m4a", Provider.DIRECT),
]


@pytest.mark.parametrize(("url", "provider"), ACCEPTED, ids=[u for u, _ in ACCEPTED])
def test_supported_links_accepted_when_public(policy: UrlPolicy, url: str, provider: Provider) -> None:
    policy.check_user_url(url)
    assert policy.provider_of(url) is provider


@pytest.mark.parametrize(
    ("url", "provider"),
    [
        ("https://news.example.org/article", Provider.OTHER),
        ("https://youtube.com.evil.example/watch", Provider.OTHER),
        ("https://evilyoutube.com/watch", Provider.OTHER),
        ("https://bandcamp.com.evil.example/track/x", Provider.OTHER),
        ("https://files.example.org/song.mp3.exe", Provider.OTHER),
        ("https://files.example.org/mp3", Provider.OTHER),
        ("not a url at all", Provider.OTHER),
        ("http://[::1", Provider.OTHER),
    ],
)
def test_provider_of_lookalikes(policy: UrlPolicy, url: str, provider: Provider) -> None:
    assert policy.provider_of(url) is provider


def test_disallowed_provider_is_refused_and_message_lists_what_is_allowed() -> None:
    policy = UrlPolicy(allowed_providers=frozenset({Provider.SOUNDCLOUD}), resolver=StubResolver())
    policy.check_user_url("https://soundcloud.com/nightfall-audio/midnight-drive-extended-mix")
    for url in ("https://www.youtube.com/watch?v=dQw4w9WgXcQ", "https://files.example.org/song.mp3"):
        with pytest.raises(UrlRefused) as refused:
            policy.check_user_url(url)
        assert refused.value.user_message == "That site isn't supported; BRENT plays SoundCloud."


def test_other_provider_can_be_allowed_explicitly() -> None:
    policy = UrlPolicy(allowed_providers=DEFAULT_PROVIDERS | {Provider.OTHER}, resolver=StubResolver())
    policy.check_user_url("https://news.example.org/article")
    with pytest.raises(UrlRefused) as refused:
        policy.check_user_url("https://intranet.example.org/article")
    assert refused.value.user_message == MSG_NAME_NOT_PUBLIC


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/song.mp3",
        "http://localhost:8000/song.mp3",
        "http://[::1]:8000/song.mp3",
        "http://10.0.0.5/song.mp3",
        "http://192.168.1.20/music/song.flac",
        "http://100.64.0.1/song.mp3",
        "http://[fd00::1]/song.mp3",
        "http://intranet.example.org/song.mp3",
        "http://[::ffff:192.168.1.1]/song.mp3",
    ],
)
def test_allow_private_network_lets_lan_through(url: str) -> None:
    UrlPolicy(allow_private_network=True, resolver=StubResolver()).check_user_url(url)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("file:///etc/passwd", MSG_SCHEME),
        ("http://user:pw@127.0.0.1/song.mp3", MSG_USERINFO),
        ("http://0.0.0.0/song.mp3", MSG_NOT_PUBLIC),
        ("http://224.0.0.1/song.mp3", MSG_NOT_PUBLIC),
        ("https://news.example.org/article", SUPPORTED),
    ],
)
def test_allow_private_network_keeps_the_other_rules(url: str, message: str) -> None:
    policy = UrlPolicy(allow_private_network=True, resolver=StubResolver())
    with pytest.raises(UrlRefused) as refused:
        policy.check_user_url(url)
    assert refused.value.user_message == message


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/videoplayback",
        "http://0x7f.1/videoplayback",
        "http://169.254.169.254/latest/meta-data/",
        "http://intranet.example.org/videoplayback",
        "file:///etc/passwd",
        "concat:/etc/passwd|/etc/hosts",
        "/etc/passwd",
        "https://user:pw@rr5---sn-4g5lznez.googlevideo.com/videoplayback",
        "https://nxdomain.example.org/videoplayback",
    ],
)
def test_media_url_refused_with_media_message(policy: UrlPolicy, url: str) -> None:
    with pytest.raises(UrlRefused) as refused:
        policy.check_media_url(url)
    assert refused.value.user_message == MSG_MEDIA


def test_media_url_has_no_provider_or_length_rule(policy: UrlPolicy) -> None:
    long_googlevideo = "https://rr5---sn-4g5lznez.googlevideo.com/videoplayback?" + "x=1&" * 700
    assert len(long_googlevideo) > 2000
    policy.check_media_url(long_googlevideo)


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("017700000001", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("127.0.1", "127.0.0.1"),
        ("10.1", "10.0.0.1"),
        ("0", "0.0.0.0"),
        ("0xa9fea9fe", "169.254.169.254"),
        ("::ffff:127.0.0.1", "::ffff:7f00:1"),
        ("youtube.com", None),
        ("1e3", None),
    ],
)
def test_parse_numeric_host_agrees_with_inet_aton(host: str, expected: str | None) -> None:
    parsed = parse_numeric_host(host)
    assert (str(parsed) if parsed is not None else None) == expected
    if expected is not None and ":" not in host:
        assert socket.inet_aton(host) == ipaddress.IPv4Address(expected).packed


@pytest.mark.parametrize("host", ["2130706433", "0x7f.1", "017700000001", "127.1"])
def test_system_resolver_reads_numeric_forms_like_the_parser(host: str) -> None:
    """getaddrinfo on a numeric host does no network lookup; it must agree with our parser."""
    assert system_resolver(host) and set(system_resolver(host)) == {"127.0.0.1"}



def test_an_internal_name_and_an_unknown_name_get_the_same_reply(policy: UrlPolicy) -> None:
    """Otherwise a member could map which internal names the bot's resolver knows."""
    replies = set()
    for url in ("http://intranet.example.org/a.mp3", "http://metadata.example.org/a.mp3",
                "http://nxdomain.example.org/a.mp3"):
        with pytest.raises(UrlRefused) as refused:
            policy.check_user_url(url)
        replies.add(refused.value.user_message)
    assert replies == {MSG_NAME_NOT_PUBLIC}


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://files.example.org/song.mp3", True),
        (f"http://{PUBLIC_V4}/song.flac", True),
        ("https://intranet.example.org/song.mp3", True),  # a name: the egress gate checks what it resolves to
        ("http://10.0.0.7/song.mp3", False),  # a private literal: refused without a lookup
        ("http://169.254.169.254/latest/meta-data.mp3", False),
        ("https://www.youtube.com/watch?v=dQw4w9WgXcQ", False),  # a page, not a file
        ("https://news.example.org/article", False),
        ("file:///etc/passwd.mp3", False),
        ("https://files.example.org/" + "a" * 2100 + ".mp3", False),
        ("https://user:pw@files.example.org/song.mp3", False),
    ],
)
def test_a_direct_file_is_told_without_any_lookup(
    policy: UrlPolicy, policy_resolver: StubResolver, url: str, expected: bool
) -> None:
    assert policy.direct_file_without_lookup(url) is expected
    assert policy_resolver.asked == []


def test_a_direct_file_needs_its_provider_allowed(policy_resolver: StubResolver) -> None:
    only_soundcloud = UrlPolicy(allowed_providers=frozenset({Provider.SOUNDCLOUD}), resolver=policy_resolver)
    assert not only_soundcloud.direct_file_without_lookup("https://files.example.org/song.mp3")
