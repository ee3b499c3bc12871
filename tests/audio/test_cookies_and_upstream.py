"""YTDLP_COOKIES (only YouTube's and Google's cookies, only to them, from a private file, never in a
log) and YTDLP_PROXY (every checked connection leaves through the owner's proxy, to the checked address)."""

from __future__ import annotations

import base64
import contextlib
import logging
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from audio.egress_proxy import ClientKind, EgressProxy
from audio.errors import UrlRefused
from audio.executors import ExecutorMode
from audio.extractor import Extractor, ExtractorConfig
from audio.extractor.cookies import CookieFileError, check_private, youtube_cookies
from audio.extractor.ytdl import GuardedYoutubeDL, ytdl_options
from audio.upstream_proxy import UpstreamProxy
from audio.url_policy import UrlPolicy
from bot.logging_config import TokenRedactionFilter, _secrets
from bot.settings import SettingsError, load_settings
from tests.media import MediaServer

SECRET_VALUE = "SIDvalue-never-to-be-seen"
COOKIES = (
    "# Netscape HTTP Cookie File\n"
    f".youtube.com\tTRUE\t/\tTRUE\t2000000000\tSID\t{SECRET_VALUE}\n"
    ".google.com\tTRUE\t/\tTRUE\t2000000000\tHSID\tgoogle-value\n"
    ".evil.example\tTRUE\t/\tFALSE\t2000000000\tsession\tevil-value\n"
    "127.0.0.1\tFALSE\t/\tFALSE\t2000000000\tlocal\tloopback-value\n"
)


@pytest.fixture
def cookie_file(tmp_path: Path) -> Path:
    path = tmp_path / "cookies.txt"
    path.write_text(COOKIES)
    path.chmod(0o600)
    return path


def test_a_cookies_file_must_be_private(cookie_file: Path, tmp_path: Path) -> None:
    check_private(cookie_file)
    cookie_file.chmod(0o640)
    with pytest.raises(CookieFileError, match="chmod 600"):
        check_private(cookie_file)
    with pytest.raises(CookieFileError):
        check_private(tmp_path / "absent.txt")
    with pytest.raises(CookieFileError):
        check_private(tmp_path)


def test_only_youtube_and_google_cookies_are_kept(cookie_file: Path) -> None:
    assert sorted(c.domain for c in youtube_cookies(cookie_file)) == [".google.com", ".youtube.com"]
    ydl = GuardedYoutubeDL(ytdl_options(ExtractorConfig()), cookies=youtube_cookies(cookie_file))
    with ydl.job():
        assert SECRET_VALUE in ydl.cookiejar.get_cookie_header("https://www.youtube.com/watch?v=x")
        assert not ydl.cookiejar.get_cookie_header("https://evil.example/")
    with ydl.job():  # every job starts with the owner's cookies again, nothing else
        assert SECRET_VALUE in ydl.cookiejar.get_cookie_header("https://music.youtube.com/")
    ydl.close()


async def test_no_cookie_reaches_another_site_and_none_is_logged(
    cookie_file: Path, media_server: MediaServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    extractor = Extractor(
        policy=UrlPolicy(allow_private_network=True), mode=ExecutorMode.THREAD, cookies=cookie_file
    )
    try:
        await extractor.page(media_server.url("tone.mp3"))
    finally:
        extractor.close()
    [request] = media_server.requests
    assert "cookie" not in {name.lower() for name in request.headers}  # not even the 127.0.0.1 one
    assert SECRET_VALUE not in caplog.text and "evil-value" not in caplog.text


def test_settings_refuse_a_readable_cookies_file_and_a_bad_proxy(cookie_file: Path) -> None:
    settings = load_settings(None, environ={"YTDLP_COOKIES": str(cookie_file)}, require_token=False)
    assert settings.sources.ytdlp_cookies == cookie_file and str(cookie_file) not in repr(settings)
    cookie_file.chmod(0o644)
    with pytest.raises(SettingsError, match="YTDLP_COOKIES") as caught:
        load_settings(None, environ={"YTDLP_COOKIES": str(cookie_file)}, require_token=False)
    assert SECRET_VALUE not in str(caught.value)
    with pytest.raises(SettingsError, match="MUSIC_DIR must be an existing folder"):
        load_settings(None, environ={"MUSIC_DIR": str(cookie_file)}, require_token=False)
    for bad in ("socks5://h:1080", "http://no-port.example", "proxy.example:8080"):
        with pytest.raises(SettingsError, match="YTDLP_PROXY"):
            load_settings(None, environ={"YTDLP_PROXY": bad}, require_token=False)
    good = load_settings(None, environ={"YTDLP_PROXY": "http://me:pa55word@proxy.example:3128"}, require_token=False)
    assert "pa55word" not in repr(good)
    masked = TokenRedactionFilter(_secrets(good)).redact("upstream said pa55word")
    assert "pa55word" not in masked


class ConnectProxy:
    """A minimal upstream HTTP proxy on 127.0.0.1: CONNECT only; records each target and credential."""

    def __init__(self) -> None:
        self.tunnels: list[tuple[str, str | None]] = []
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            threading.Thread(target=self._tunnel, args=(client,), daemon=True).start()

    def _tunnel(self, client: socket.socket) -> None:
        head = b""
        while b"\r\n\r\n" not in head:
            head += client.recv(4096)
        lines = head.decode("latin-1").split("\r\n")
        target = lines[0].split(" ")[1]
        auth = next((line.split(" ", 2)[2] for line in lines if line.lower().startswith("proxy-authorization")), None)
        self.tunnels.append((target, base64.b64decode(auth).decode() if auth else None))
        host, port = target.rsplit(":", 1)
        origin = socket.create_connection((host, int(port)))
        client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        for a, b in ((client, origin), (origin, client)):
            threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for each in (source, sink):
                with contextlib.suppress(OSError):
                    each.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self._server.close()


@pytest.fixture
def upstream() -> Iterator[ConnectProxy]:
    proxy = ConnectProxy()
    yield proxy
    proxy.close()


def _names(host: str) -> list[str]:
    return ["127.0.0.1"] if host == "media.test" else []


def test_connections_leave_through_the_upstream_proxy_to_the_checked_address(
    upstream: ConnectProxy, media_server: MediaServer, media_dir: Path
) -> None:
    class Refusing(UrlPolicy):
        def connectable_addresses(self, host: str) -> list:  # type: ignore[type-arg]
            if host == "refused.test":
                raise UrlRefused("refused", detail="test rule")
            return super().connectable_addresses(host)

    gate = EgressProxy(
        Refusing(allow_private_network=True, resolver=_names),
        upstream=UpstreamProxy.parse(f"http://owner:s3cret@127.0.0.1:{upstream.port}"),
    )
    try:
        secret = gate.url(ClientKind.MEDIA).split("@")[0].split(":")[2]
        auth = base64.b64encode(f"media:{secret}".encode()).decode()
        port = media_server.url("tone.mp3").split(":")[2].split("/")[0]
        for host, expect_ok in (("media.test", True), ("refused.test", False)):
            with socket.create_connection(("127.0.0.1", gate.port), timeout=10) as sock:
                sock.sendall(
                    f"GET http://{host}:{port}/tone.mp3 HTTP/1.1\r\nHost: {host}\r\n"
                    f"Proxy-Authorization: Basic {auth}\r\n\r\n".encode()
                )
                answer = b""
                while data := sock.recv(65536):
                    answer += data
            head, _, body = answer.partition(b"\r\n\r\n")
            if expect_ok:
                assert head.startswith(b"HTTP/1.0 200") or head.startswith(b"HTTP/1.1 200"), head[:40]
                assert body == (media_dir / "tone.mp3").read_bytes()
            else:
                assert head.startswith(b"HTTP/1.1 502")
    finally:
        gate.close()
    # The tunnel went to the address the gate checked, never to a name; the refused one never left.
    assert upstream.tunnels == [(f"127.0.0.1:{port}", "owner:s3cret")]
