"""The local music library: search by tags and file names, a fresh index when files change, nothing
outside the folder (links out, ``..``), and files served only through the egress proxy with the token."""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from audio.egress_proxy import ClientKind, EgressProxy
from audio.errors import NothingFound, UrlRefused
from audio.executors import ExecutorMode
from audio.extractor import Extractor
from audio.local_library import LIBRARY_HOST, LocalLibrary, library_path, page_url_of
from audio.track import Provider
from audio.url_policy import UrlPolicy
from tests.audio.library_files import music_folder, tagged_tone


@pytest.fixture
def music(tmp_path: Path) -> Path:
    return music_folder(tmp_path)


@pytest.fixture
def library(music: Path) -> LocalLibrary:
    return LocalLibrary(music)


def test_search_reads_tags_and_file_names(library: LocalLibrary) -> None:
    [so_what] = library.search("miles davis so what")
    assert (so_what.path, so_what.title, so_what.artist, so_what.album) == (
        "Jazz/so_what.mp3", "So What", "Miles Davis", "Kind of Blue",
    )
    assert so_what.duration == pytest.approx(2.0, abs=0.1)
    assert [e.path for e in library.search("miles", 5)] == ["Jazz/blue_in_green.ogg", "Jazz/so_what.mp3"]
    [untagged] = library.search("field recording")
    assert untagged.title == "untagged field recording"  # no tags: the file name stands in
    with pytest.raises(NothingFound):
        library.search("coltrane")
    with pytest.raises(NothingFound):
        library.search("secret")  # beside the folder, never indexed


def test_the_index_sees_added_changed_and_removed_files(library: LocalLibrary, music: Path) -> None:
    assert len(library.refresh()) == 3
    tagged_tone(music / "new" / "giant_steps.mp3", 500, 1.0, title="Giant Steps", artist="John Coltrane")
    assert [e.title for e in library.search("coltrane")] == ["Giant Steps"]
    tagged_tone(music / "new" / "giant_steps.mp3", 500, 1.5, title="Naima", artist="John Coltrane")
    assert [e.title for e in library.search("coltrane")] == ["Naima"]
    (music / "new" / "giant_steps.mp3").unlink()
    with pytest.raises(NothingFound):
        library.search("coltrane")


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symlinks here")
def test_links_and_paths_that_leave_the_folder_are_refused(library: LocalLibrary, music: Path, tmp_path: Path) -> None:
    (music / "escape.mp3").symlink_to(tmp_path / "secret.mp3")
    (music / "outside").symlink_to(tmp_path, target_is_directory=True)
    (music / "inside.mp3").symlink_to(music / "Jazz" / "so_what.mp3")  # a link within the folder is fine
    assert sorted(e.path for e in library.refresh()) == [
        "Jazz/blue_in_green.ogg", "Jazz/so_what.mp3", "inside.mp3", "untagged field recording.flac",
    ]
    for path in ("escape.mp3", "outside/secret.mp3", "../secret.mp3", "Jazz/../../secret.mp3", "/etc/passwd",
                 str(tmp_path / "secret.mp3"), "notes.txt", "Jazz", "", "Jazz//so_what.mp3", "..\\secret.mp3"):
        with pytest.raises(UrlRefused):
            library.inside(path)
    assert library.inside("Jazz/so_what.mp3") == (music / "Jazz" / "so_what.mp3").resolve()


def test_page_urls_round_trip_and_name_the_library() -> None:
    url = page_url_of("Jazz/so what #1?.mp3")
    assert url.startswith(f"http://{LIBRARY_HOST}/")
    assert library_path(url) == "Jazz/so what #1?.mp3"
    with pytest.raises(UrlRefused):
        library_path("https://example.org/Jazz/so_what.mp3")


async def _ask_proxy(proxy: EgressProxy, kind: ClientKind, target: str, *extra: str) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
    credential = base64.b64encode(f"{kind.value}:{proxy.url(kind).split(':')[2].split('@')[0]}".encode()).decode()
    lines = [f"GET {target} HTTP/1.1", f"Host: {LIBRARY_HOST}", f"Proxy-Authorization: Basic {credential}", *extra]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
    await writer.drain()
    answer = await reader.read()
    writer.close()
    return answer


@pytest.fixture
def proxy(library: LocalLibrary) -> Iterator[EgressProxy]:
    made = EgressProxy(UrlPolicy(), library=library)
    yield made
    made.close()


async def test_the_proxy_serves_library_files_only_with_the_token_and_only_to_media_clients(
    proxy: EgressProxy, library: LocalLibrary, music: Path, tmp_path: Path
) -> None:
    body = (music / "Jazz" / "so_what.mp3").read_bytes()
    url = f"http://{LIBRARY_HOST}/{library.token}/Jazz/so_what.mp3"
    whole = await _ask_proxy(proxy, ClientKind.MEDIA, url)
    head, _, payload = whole.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK") and b"Content-Type: audio/mpeg" in head and payload == body
    part = await _ask_proxy(proxy, ClientKind.MEDIA, url, "Range: bytes=100-")
    head, _, payload = part.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 206") and f"Content-Range: bytes 100-{len(body) - 1}/{len(body)}".encode() in head
    assert payload == body[100:]
    (music / "escape.mp3").symlink_to(tmp_path / "secret.mp3")
    for refused in (
        await _ask_proxy(proxy, ClientKind.MEDIA, f"http://{LIBRARY_HOST}/wrong-token/Jazz/so_what.mp3"),
        await _ask_proxy(proxy, ClientKind.LOOKUP, url),
        await _ask_proxy(proxy, ClientKind.MEDIA, f"http://{LIBRARY_HOST}/{library.token}/escape.mp3"),
        await _ask_proxy(proxy, ClientKind.MEDIA, f"http://{LIBRARY_HOST}/{library.token}/Jazz/%2e%2e/%2e%2e/secret.mp3"),
    ):
        assert refused.startswith(b"HTTP/1.1 502") and b"Miles" not in refused
    without = EgressProxy(UrlPolicy())
    try:
        assert (await _ask_proxy(without, ClientKind.MEDIA, url)).startswith(b"HTTP/1.1 502")
    finally:
        without.close()


async def test_the_extractor_finds_local_tracks_and_streams_them_through_the_gate(library: LocalLibrary) -> None:
    extractor = Extractor(policy=UrlPolicy(), mode=ExecutorMode.THREAD, library=library)
    try:
        [track] = await extractor.resolve_all("local: kind of blue", requester_id=9)
        assert (track.title, track.uploader, track.provider, track.requester_id) == (
            "So What", "Miles Davis", Provider.LOCAL, 9,
        )
        assert not extractor.needs_measuring(track)
        stream = await extractor.stream(track)
        assert stream.url == f"http://{LIBRARY_HOST}/{library.token}/Jazz/so_what.mp3"
        hits = await extractor.search("local miles", 5)
        assert [t.title for t in hits] == ["Blue in Green", "So What"]
        (library.root / "Jazz" / "so_what.mp3").unlink()
        with pytest.raises(UrlRefused):
            await extractor.stream(track)  # gone since: refused before ffmpeg is asked
    finally:
        extractor.close()
