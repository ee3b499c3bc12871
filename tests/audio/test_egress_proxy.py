"""The egress proxy: the one gate every fetch made on a user's behalf goes through.

Everything here runs on 127.0.0.1: the "refused" addresses are loopback addresses a policy in the
test refuses by rule, and names resolve through stub resolvers. Real yt-dlp, ffmpeg and ffprobe
are run through the proxy in tests/audio/test_extractor*.py, tests/audio/test_egress_ffmpeg.py and
the network-namespace lab (tests/e2e/test_egress_lab.py).
"""

from __future__ import annotations

import base64
import http.server
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

import pytest
import trustme

from audio.egress_proxy import ClientKind, EgressProxy, ffmpeg_environment
from audio.errors import UrlRefused
from audio.url_policy import Address, UrlPolicy
from tests.media import MediaServer

pytestmark = pytest.mark.timeout(60)


class _Policy(UrlPolicy):
    """Loopback allowed, except the hosts named in ``refused``; names resolve through ``answers``."""

    def __init__(self, answers: Callable[[str], list[str]], refused: set[str] = frozenset()) -> None:  # type: ignore[assignment]
        super().__init__(allow_private_network=True, resolver=answers)
        self.refused = set(refused)
        self.resolved: list[str] = []

    def connectable_addresses(self, host: str) -> list[Address]:
        self.resolved.append(host)
        addresses = super().connectable_addresses(host)
        if host in self.refused or any(str(a) in self.refused for a in addresses):
            raise UrlRefused("refused", detail=f"test rule: {host}")
        return addresses


def _loopback(host: str) -> list[str]:
    return ["127.0.0.1"]


@contextmanager
def _proxy(policy: UrlPolicy | None = None, **kwargs: float) -> Iterator[EgressProxy]:
    proxy = EgressProxy(policy if policy is not None else _Policy(_loopback), **kwargs)  # type: ignore[arg-type]
    try:
        yield proxy
    finally:
        proxy.close()


def _auth(proxy: EgressProxy, kind: ClientKind = ClientKind.MEDIA) -> str:
    secret = proxy.url(kind).split("@")[0].split(":")[2]
    token = base64.b64encode(f"{kind.value}:{secret}".encode()).decode()
    return f"Proxy-Authorization: Basic {token}\r\n"


def _exchange(proxy: EgressProxy, request: str, *, read_all: bool = True) -> bytes:
    """Send ``request`` to the proxy, return everything it answers until it closes."""
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=10) as sock:
        sock.sendall(request.encode("latin-1"))
        chunks = []
        while data := sock.recv(65536):
            chunks.append(data)
            if not read_all:
                break
        return b"".join(chunks)


def _get(proxy: EgressProxy, url: str, *, kind: ClientKind = ClientKind.MEDIA, extra: str = "") -> bytes:
    return _exchange(proxy, f"GET {url} HTTP/1.1\r\nHost: ignored.test\r\n{_auth(proxy, kind)}{extra}\r\n")


def _status(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def _body(answer: bytes) -> bytes:
    return answer.split(b"\r\n\r\n", 1)[1]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- plain http ------------------------------------------------------------------------------------


def test_a_plain_http_request_reaches_the_checked_host_with_clean_headers(media_server: MediaServer) -> None:
    with _proxy() as proxy:
        answer = _get(proxy, f"http://media.test:{media_server.port}/tone.mp3", extra="Proxy-Connection: keep-alive\r\n")
    assert _status(answer) == 200
    assert _body(answer) == (media_server.root / "tone.mp3").read_bytes()
    head = answer.split(b"\r\n\r\n", 1)[0].decode().lower()
    assert "connection: close" in head  # the client may not reuse the connection for another host
    (seen,) = media_server.requests
    names = {name.lower(): value for name, value in seen.headers.items()}
    assert names["host"] == f"media.test:{media_server.port}"  # the URI's authority, not the client's Host
    assert "proxy-authorization" not in names and "proxy-connection" not in names
    assert seen.path == "/tone.mp3"


@pytest.mark.parametrize(
    "credential",
    [
        "",
        "Proxy-Authorization: Basic " + base64.b64encode(b"media:wrong").decode() + "\r\n",
        "Proxy-Authorization: Basic !!!\r\n",
        "Proxy-Authorization: Bearer abc\r\n",
    ],
)
def test_without_the_credential_nothing_is_fetched(media_server: MediaServer, credential: str) -> None:
    with _proxy() as proxy:
        answer = _exchange(proxy, f"GET {media_server.url('tone.mp3')} HTTP/1.1\r\n{credential}\r\n")
    assert _status(answer) == 407 and b'Proxy-Authenticate: Basic realm="brent"' in answer
    assert media_server.requests == []


def test_an_unknown_user_name_is_refused(media_server: MediaServer) -> None:
    with _proxy() as proxy:
        secret = proxy.url(ClientKind.MEDIA).split("@")[0].split(":")[2]
        token = base64.b64encode(f"admin:{secret}".encode()).decode()
        answer = _exchange(
            proxy, f"GET {media_server.url('tone.mp3')} HTTP/1.1\r\nProxy-Authorization: Basic {token}\r\n\r\n"
        )
    assert _status(answer) == 407 and media_server.requests == []


def test_a_refused_address_and_a_closed_port_get_the_same_answer(media_server: MediaServer) -> None:
    """No oracle: refusing an internal address and failing to connect read alike, byte for byte."""
    closed = _free_port()
    with _proxy(_Policy(_loopback, refused={"internal.test"})) as proxy:
        refused = _get(proxy, f"http://internal.test:{media_server.port}/tone.mp3")
        failed = _get(proxy, f"http://public.test:{closed}/tone.mp3")
        tunnel_refused = _exchange(
            proxy, f"CONNECT internal.test:{media_server.port} HTTP/1.1\r\n{_auth(proxy)}\r\n"
        )
        tunnel_failed = _exchange(proxy, f"CONNECT public.test:{closed} HTTP/1.1\r\n{_auth(proxy)}\r\n")
    assert _status(refused) == 502
    assert refused == failed == tunnel_refused == tunnel_failed
    assert media_server.requests == []


def test_a_name_is_resolved_once_and_only_a_checked_address_is_connected_to(media_server: MediaServer) -> None:
    """DNS rebinding: the second answer (127.0.0.2, refused) is never asked for, let alone used."""
    answers = iter([["127.0.0.1"], ["127.0.0.2"]])
    policy = _Policy(lambda host: next(answers), refused={"127.0.0.2"})
    stand_in = socket.socket()
    stand_in.bind(("127.0.0.2", media_server.port))
    stand_in.listen()
    stand_in.setblocking(False)
    try:
        with _proxy(policy) as proxy:
            answer = _get(proxy, f"http://flip.test:{media_server.port}/tone.mp3")
        with pytest.raises(BlockingIOError):
            stand_in.accept()
    finally:
        stand_in.close()
    assert _status(answer) == 200 and policy.resolved == ["flip.test"]


def test_every_request_is_checked_again(media_server: MediaServer) -> None:
    """A reconnect (ffmpeg's -reconnect, a redirect hop) is a new request: the rule of that moment applies."""
    policy = _Policy(_loopback)
    with _proxy(policy) as proxy:
        first = _get(proxy, f"http://flip.test:{media_server.port}/tone.mp3")
        policy.refused.add("flip.test")
        second = _get(proxy, f"http://flip.test:{media_server.port}/tone.mp3")
    assert (_status(first), _status(second)) == (200, 502)
    assert len(media_server.requests) == 1


@pytest.mark.parametrize(
    "request_text",
    [
        "GET /tone.mp3 HTTP/1.1\r\n{auth}\r\n",  # origin-form: not a proxy request
        "GET https://media.test/tone.mp3 HTTP/1.1\r\n{auth}\r\n",  # https goes through CONNECT
        "GET ftp://media.test/tone.mp3 HTTP/1.1\r\n{auth}\r\n",
        "GET http://user:pw@media.test/tone.mp3 HTTP/1.1\r\n{auth}\r\n",
        "GET http://media.test/tone.mp3 HTTP/2.0\r\n{auth}\r\n",
        "CONNECT media.test HTTP/1.1\r\n{auth}\r\n",
        "CONNECT media.test:0 HTTP/1.1\r\n{auth}\r\n",
        "CONNECT [::1 HTTP/1.1\r\n{auth}\r\n",
        "GET http://media.test/ HTTP/1.1\r\n{auth}Bad Header\r\n\r\n",
        "GET http://media.test/ HTTP/1.1\r\n{auth}Content-Length: 1\r\nContent-Length: 2\r\n\r\n",
    ],
)
def test_malformed_requests_are_refused(media_server: MediaServer, request_text: str) -> None:
    with _proxy() as proxy:
        answer = _exchange(proxy, request_text.format(auth=_auth(proxy)))
    assert _status(answer) == 400
    assert media_server.requests == []


def test_a_chunked_request_body_is_refused(media_server: MediaServer) -> None:
    with _proxy() as proxy:
        answer = _exchange(
            proxy,
            f"POST {media_server.url('x')} HTTP/1.1\r\n{_auth(proxy)}Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        )
    assert _status(answer) == 411 and media_server.requests == []


def test_a_request_body_is_forwarded_exactly(media_server: MediaServer) -> None:
    received: list[bytes] = []

    class Echo(http.server.BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            return None

        def do_POST(self) -> None:  # noqa: N802
            received.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(204)
            self.end_headers()

    with _server(Echo) as port, _proxy() as proxy:
        answer = _exchange(
            proxy,
            f"POST http://api.test:{port}/ask HTTP/1.1\r\n{_auth(proxy, ClientKind.LOOKUP)}Content-Length: 5\r\n\r\n"
            "hello",
        )
    assert _status(answer) == 204 and received == [b"hello"]


# --- CONNECT (https) -------------------------------------------------------------------------------


def test_https_is_tunnelled_with_tls_end_to_end(media_server: MediaServer) -> None:
    """The client verifies the site's own certificate through the tunnel: the proxy sees only bytes."""
    ca = trustme.CA()
    cert = ca.issue_cert("media.test")
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(server_context)
    body = (media_server.root / "tone.mp3").read_bytes()

    class Tls(http.server.BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            return None

        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    client_context = ssl.create_default_context()
    ca.configure_trust(client_context)
    with (
        _server(Tls, tls=server_context) as port,
        _proxy() as proxy,
        socket.create_connection(("127.0.0.1", proxy.port), timeout=10) as raw,
    ):
        raw.sendall(f"CONNECT media.test:{port} HTTP/1.1\r\n{_auth(proxy)}\r\n".encode())
        opened = raw.recv(1024)
        assert opened.startswith(b"HTTP/1.1 200")
        with client_context.wrap_socket(raw, server_hostname="media.test") as tls:
            tls.sendall(b"GET /tone.mp3 HTTP/1.1\r\nHost: media.test\r\nConnection: close\r\n\r\n")
            chunks = []
            while data := tls.recv(65536):
                chunks.append(data)
    assert _body(b"".join(chunks)) == body


# --- lookups are bounded, media are not ------------------------------------------------------------


def test_a_lookup_connection_ends_at_its_time_limit_and_a_media_one_does_not() -> None:
    release = threading.Event()

    class Drip(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            return None

        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.end_headers()
            while not release.wait(0.05):  # one byte every 50 ms, forever: no socket timeout ever trips
                try:
                    self.wfile.write(b"x")
                    self.wfile.flush()
                except OSError:
                    return

    with _server(Drip) as port, _proxy(lookup_lifetime=1.0) as proxy:
        started = time.monotonic()
        lookup = _get(proxy, f"http://drip.test:{port}/", kind=ClientKind.LOOKUP)
        lookup_time = time.monotonic() - started
        with socket.create_connection(("127.0.0.1", proxy.port), timeout=10) as media:
            media.sendall(f"GET http://drip.test:{port}/ HTTP/1.1\r\n{_auth(proxy)}\r\n".encode())
            received = b""
            while len(received) < 200 and (data := media.recv(1024)):  # well past the lookup limit
                received += data
        release.set()
    assert _status(lookup) == 200 and lookup_time < 8  # cut off, not left running
    assert len(received) >= 200


def test_a_lookup_connection_carries_at_most_its_byte_limit() -> None:
    payload = b"y" * 300_000

    class Big(http.server.BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            return None

        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            with suppress(OSError):
                self.wfile.write(payload)

    with _server(Big) as port, _proxy(lookup_bytes=100_000) as proxy:
        lookup = _get(proxy, f"http://big.test:{port}/", kind=ClientKind.LOOKUP)
        media = _get(proxy, f"http://big.test:{port}/", kind=ClientKind.MEDIA)
    assert len(_body(lookup)) <= 100_000 + 65_536
    assert _body(media) == payload


# --- ffmpeg's environment --------------------------------------------------------------------------


def test_ffmpeg_gets_only_our_proxy_in_its_environment() -> None:
    base = {"PATH": "/usr/bin", "no_proxy": "*", "NO_PROXY": "*", "http_proxy": "http://evil:1", "HOME": "/x"}
    env = ffmpeg_environment("http://media:s@127.0.0.1:9", base)
    assert env == {"PATH": "/usr/bin", "HOME": "/x", "http_proxy": "http://media:s@127.0.0.1:9"}


def test_the_credential_never_shows_in_repr() -> None:
    with _proxy() as proxy:
        secret = proxy.url(ClientKind.MEDIA).split("@")[0].split(":")[2]
        assert secret not in repr(proxy)


def test_close_ends_open_connections(media_server: MediaServer) -> None:
    proxy = EgressProxy(_Policy(_loopback))
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=10) as sock:
        sock.sendall(f"CONNECT media.test:{media_server.port} HTTP/1.1\r\n{_auth(proxy)}\r\n".encode())
        assert sock.recv(1024).startswith(b"HTTP/1.1 200")  # an open tunnel, idle on both sides
        proxy.close()
        assert sock.recv(1024) == b""
    with pytest.raises(RuntimeError):
        proxy.url(ClientKind.MEDIA)


@contextmanager
def _server(handler: type[http.server.BaseHTTPRequestHandler], *, tls: ssl.SSLContext | None = None) -> Iterator[int]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    if tls is not None:
        httpd.socket = tls.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield int(httpd.server_address[1])
    finally:
        httpd.shutdown()
        httpd.server_close()
