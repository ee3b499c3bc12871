"""Which links BRENT may fetch: the guard in front of yt-dlp and FFmpeg.

yt-dlp does no address filtering and FFmpeg follows whatever it is given, so a user link to
``http://169.254.169.254/`` or ``http://127.1:5432/`` would make the bot probe its own network
(SSRF). Every user link and every media URL yt-dlp hands back is checked here first: only
http(s), no user-info, a provider on the allowlist, and no address the host resolves to may lie in
a special-purpose range (``audio.special_addresses``). Numeric host spellings (``2130706433``,
``0x7f.1``, ``017700000001``, ``127.1``) are decoded the way ``inet_aton`` does, so they cannot
sneak past as "names".

These checks resolve names, which blocks: call them from a worker thread, never the event loop. A
check of a link is time-of-check only; what makes it hold is that yt-dlp, ffmpeg and ffprobe connect
only through the egress proxy (audio/egress_proxy.py), which applies
:meth:`UrlPolicy.connectable_addresses` to every connection they make.
"""

from __future__ import annotations

import ipaddress
import logging
import posixpath
import re
import socket
import urllib.parse
from collections.abc import Callable, Iterable

from audio.errors import UrlRefused
from audio.special_addresses import Category, classify, embedded_ipv4, is_metadata_endpoint
from audio.track import Provider

log = logging.getLogger(__name__)

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str], list[str]]

MAX_URL_LENGTH = 2000
ALLOWED_SCHEMES = frozenset({"http", "https"})
AUDIO_EXTENSIONS = frozenset({"mp3", "ogg", "opus", "m4a", "aac", "flac", "wav", "webm", "mka"})
DEFAULT_PROVIDERS: frozenset[Provider] = frozenset(
    {Provider.YOUTUBE, Provider.SOUNDCLOUD, Provider.BANDCAMP, Provider.DIRECT}
)
ALLOWED_PROVIDERS = DEFAULT_PROVIDERS

_YOUTUBE_HOSTS = ("youtube.com", "youtu.be", "youtube-nocookie.com")
_SOUNDCLOUD_HOSTS = ("soundcloud.com",)
_BANDCAMP_HOSTS = ("bandcamp.com",)

_FORBIDDEN_CHARS = re.compile(r"[\x00-\x20\x7f\\]")
_NUMERIC_PART = re.compile(r"^(0[xX][0-9a-fA-F]*|[0-9]+)$")

# User messages: short, say why, never echo the URL.
MSG_TOO_LONG = "That link is too long (over 2000 characters)."
MSG_MALFORMED = "That doesn't look like a valid web link."
MSG_SCHEME = "Only http:// and https:// links can be played."
MSG_USERINFO = "Links with a user name or password in them are not allowed."
MSG_LOOPBACK = "That address points at the bot's own machine; BRENT only plays public links."
MSG_PRIVATE = "That address is on a private network; BRENT only plays public links."
MSG_LINK_LOCAL = "That is a link-local (cloud metadata) address; BRENT only plays public links."
MSG_NOT_PUBLIC = "That is not a public internet address; BRENT only plays public links."
# A name that does not resolve and one that resolves to an internal address get the same answer,
# so members cannot learn which internal names the bot's resolver knows.
MSG_NAME_NOT_PUBLIC = "I can't reach that website: its name doesn't lead to a public address."
MSG_MEDIA = "That track's media is not on a public address, so I won't play it."


def provider_message(allowed: Iterable[Provider]) -> str:
    names = {
        Provider.YOUTUBE: "YouTube",
        Provider.SOUNDCLOUD: "SoundCloud",
        Provider.BANDCAMP: "Bandcamp",
        Provider.DIRECT: "direct audio-file links (.mp3, .ogg, ...)",
        Provider.OTHER: "other sites",
        Provider.LOCAL: "the local music library",
    }
    listed = [names[p] for p in Provider if p in set(allowed)]
    if not listed:
        return "This bot is configured to play no links at all."
    return "That site isn't supported; BRENT plays " + ", ".join(listed) + "."


def system_resolver(host: str) -> list[str]:
    """All addresses the OS would connect to for ``host`` (getaddrinfo also decodes numeric forms)."""
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        log.debug("resolving %r failed: %s", host, exc)
        return []
    return [str(info[4][0]) for info in infos]


def parse_numeric_host(host: str) -> Address | None:
    """Decode a host that is an address in any spelling ``inet_aton`` accepts, else None.

    ``127.1``, ``0x7f.1``, ``2130706433`` and ``017700000001`` all mean 127.0.0.1 to the C
    library, so they must mean it here too. Raises UrlRefused for numeric-looking nonsense.
    """
    host = host.rstrip(".")
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        pass
    parts = host.split(".")
    if not parts or not all(_NUMERIC_PART.match(p) for p in parts):
        return None
    if len(parts) > 4:
        raise UrlRefused(MSG_MALFORMED, detail=f"numeric host with {len(parts)} parts")
    values: list[int] = []
    for part in parts:
        if part[:2].lower() == "0x":
            values.append(int(part[2:] or "0", 16))
        elif len(part) > 1 and part.startswith("0"):
            if not all(c in "01234567" for c in part):
                raise UrlRefused(MSG_MALFORMED, detail="bad octal in numeric host")
            values.append(int(part, 8))
        else:
            values.append(int(part))
    *leading, last = values
    if any(v > 255 for v in leading) or last >= 256 ** (5 - len(values)):
        raise UrlRefused(MSG_MALFORMED, detail="numeric host out of range")
    number = last
    for index, value in enumerate(leading):
        number |= value << (8 * (3 - index))
    return ipaddress.IPv4Address(number)


_REFUSALS: dict[Category, str] = {
    Category.LOOPBACK: MSG_LOOPBACK,
    Category.PRIVATE: MSG_PRIVATE,
    Category.LINK_LOCAL: MSG_LINK_LOCAL,
    Category.NOT_PUBLIC: MSG_NOT_PUBLIC,
}
_LAN = frozenset({Category.LOOPBACK, Category.PRIVATE, Category.LINK_LOCAL})


def refusal_for_address(address: Address, *, allow_private_network: bool = False) -> str | None:
    """The user message refusing ``address``, or None when it may be fetched.

    ``allow_private_network`` admits this machine and its LAN, but never a cloud metadata endpoint
    and never the rest of the special ranges: no media server lives in documentation space.
    """
    special = classify(address)
    if special is None:
        return None
    if special.category is Category.EMBEDS_IPV4 and isinstance(address, ipaddress.IPv6Address):
        return refusal_for_address(embedded_ipv4(address), allow_private_network=allow_private_network)
    refusal = _REFUSALS.get(special.category, MSG_NOT_PUBLIC)
    if allow_private_network and special.category in _LAN and not is_metadata_endpoint(address):
        return None
    return refusal


def _host_matches(host: str, domains: Iterable[str]) -> bool:
    return any(host == d or host.endswith("." + d) for d in domains)


def provider_for(host: str, path: str) -> Provider:
    """Classify by host (and, for plain web servers, the file extension of the path)."""
    host = host.lower().rstrip(".")
    if _host_matches(host, _YOUTUBE_HOSTS):
        return Provider.YOUTUBE
    if _host_matches(host, _SOUNDCLOUD_HOSTS):
        return Provider.SOUNDCLOUD
    if _host_matches(host, _BANDCAMP_HOSTS):
        return Provider.BANDCAMP
    if path_extension(path) in AUDIO_EXTENSIONS:
        return Provider.DIRECT
    return Provider.OTHER


def path_extension(path: str) -> str:
    """A URL path's file extension, lower case, without the dot ("" if none)."""
    return posixpath.splitext(urllib.parse.unquote(path))[1].lower().lstrip(".")


class UrlPolicy:
    """Decides whether a link may be fetched, and says why not in words a user understands.

    ``allow_private_network`` is the self-hoster's ``ALLOW_PRIVATE_NETWORK=1`` (a NAS on the LAN);
    the tests use it for their loopback media server. ``resolver`` is injectable so tests about
    addresses off this machine never resolve or contact them.
    """

    def __init__(
        self,
        *,
        allow_private_network: bool = False,
        allowed_providers: frozenset[Provider] = DEFAULT_PROVIDERS,
        resolver: Resolver | None = None,
    ) -> None:
        self.allow_private_network = allow_private_network
        self.allowed_providers = frozenset(allowed_providers)
        self._resolver: Resolver = resolver if resolver is not None else system_resolver

    def __repr__(self) -> str:
        return (
            f"UrlPolicy(allow_private_network={self.allow_private_network}, "
            f"allowed_providers={sorted(self.allowed_providers)})"
        )

    def check_user_url(self, url: str) -> None:
        """Refuse (UrlRefused) anything a user typed that BRENT must not fetch. Resolves the host."""
        host, literal = self._check_without_lookup(url)
        if literal is None:
            try:
                self._check_addresses(host, self._resolve(host))
            except UrlRefused as exc:
                raise UrlRefused(MSG_NAME_NOT_PUBLIC, detail=f"{exc.user_message} ({exc})") from None

    def direct_file_without_lookup(self, url: str) -> bool:
        """Is ``url`` an audio file link (provider DIRECT) that passes every rule of
        :meth:`check_user_url` that needs no name lookup? Never blocks: for a head start on the
        event loop, whose connection the egress gate still checks like any other."""
        try:
            self._check_without_lookup(url)
        except UrlRefused:
            return False
        return self.provider_of(url) is Provider.DIRECT

    def _check_without_lookup(self, url: str) -> tuple[str, Address | None]:
        """Length, scheme, characters, provider, and a numeric host's address; the host and that address."""
        if len(url) > MAX_URL_LENGTH:
            raise UrlRefused(MSG_TOO_LONG, detail=f"url of {len(url)} chars")
        parts, host = self._split(url)
        literal = parse_numeric_host(host)
        if literal is not None:
            self._check_addresses(host, [literal])
        provider = provider_for(host, parts.path)
        if provider not in self.allowed_providers:
            raise UrlRefused(provider_message(self.allowed_providers), detail=f"provider {provider} for {host!r}")
        return host, literal

    def check_media_url(self, url: str) -> None:
        """The same address rules for a URL yt-dlp returned, before FFmpeg (or yt-dlp) fetches it.

        No length or provider rule: media hosts (googlevideo, sndcdn) differ from page hosts and
        their URLs are long.
        """
        try:
            _, host = self._split(url)
            self.connectable_addresses(host)
        except UrlRefused as exc:
            raise UrlRefused(MSG_MEDIA, detail=f"media url refused: {exc}") from None

    def connectable_addresses(self, host: str) -> list[Address]:
        """Every address ``host`` stands for, when each of them may be connected to; else UrlRefused.

        The egress proxy resolves a name only through this, once per connection, and connects to
        one of exactly the addresses returned: nothing is resolved a second time (DNS rebinding).
        """
        host = host.rstrip(".")
        if not host or "%" in host or _FORBIDDEN_CHARS.search(host):
            raise UrlRefused(MSG_MALFORMED, detail="bad host")
        if not host.isascii():
            try:
                host = host.encode("idna").decode("ascii")
            except UnicodeError:
                raise UrlRefused(MSG_MALFORMED, detail="bad idna host") from None
        literal = parse_numeric_host(host)
        addresses = [literal] if literal is not None else self._resolve(host)
        self._check_addresses(host, addresses)
        return addresses

    def provider_of(self, url: str) -> Provider:
        """The provider a link belongs to; OTHER for anything unparsable or unknown."""
        try:
            parts = urllib.parse.urlsplit(url.strip())
            host = parts.hostname or ""
        except ValueError:
            return Provider.OTHER
        return provider_for(host, parts.path) if host else Provider.OTHER

    def _split(self, url: str) -> tuple[urllib.parse.SplitResult, str]:
        if not isinstance(url, str) or not url:
            raise UrlRefused(MSG_MALFORMED, detail="empty url")
        scheme_end = url.find(":")
        scheme = url[:scheme_end].lower() if scheme_end > 0 else ""
        if scheme not in ALLOWED_SCHEMES:
            raise UrlRefused(MSG_SCHEME, detail=f"scheme {scheme[:20]!r}")
        if _FORBIDDEN_CHARS.search(url):
            raise UrlRefused(MSG_MALFORMED, detail="control character, space or backslash")
        try:
            parts = urllib.parse.urlsplit(url)
            parts.port  # noqa: B018  (raises ValueError on a bad port)
        except ValueError as exc:
            raise UrlRefused(MSG_MALFORMED, detail=f"urlsplit: {exc}") from None
        if not url[scheme_end:].startswith("://"):
            raise UrlRefused(MSG_MALFORMED, detail="no authority")
        if "@" in parts.netloc or parts.username is not None or parts.password is not None:
            raise UrlRefused(MSG_USERINFO, detail="user-info in url")
        host = (parts.hostname or "").rstrip(".")
        if not host:
            raise UrlRefused(MSG_MALFORMED, detail="no host")
        if "%" in host:
            # a zone id (fe80::1%25eth0) names an interface of this machine
            if ":" in host:
                raise UrlRefused(MSG_LINK_LOCAL, detail="ipv6 zone id")
            raise UrlRefused(MSG_MALFORMED, detail="percent in host")
        if not host.isascii():
            try:
                host = host.encode("idna").decode("ascii")
            except UnicodeError:
                raise UrlRefused(MSG_MALFORMED, detail="bad idna host") from None
        return parts, host

    def _resolve(self, host: str) -> list[Address]:
        addresses: list[Address] = []
        for text in self._resolver(host):
            try:
                addresses.append(ipaddress.ip_address(text.split("%", 1)[0]))
            except ValueError:
                log.warning("resolver gave a non-address for %r", host)
                raise UrlRefused(MSG_NAME_NOT_PUBLIC, detail="resolver returned garbage") from None
        if not addresses:
            raise UrlRefused(MSG_NAME_NOT_PUBLIC, detail=f"{host!r} did not resolve")
        return addresses

    def _check_addresses(self, host: str, addresses: list[Address]) -> None:
        """Every address must pass: one private record among public ones is enough to refuse."""
        for address in addresses:
            reason = refusal_for_address(address, allow_private_network=self.allow_private_network)
            if reason is not None:
                raise UrlRefused(reason, detail=f"{host!r} -> {address}")
