"""Fixtures for the audio tests. Each engineer appends; names are prefixed by area."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from audio.egress_proxy import ClientKind, EgressProxy
from audio.extractor import Extractor, ExtractorConfig, allowed_extractors_for
from audio.track import Provider
from audio.url_policy import UrlPolicy
from tests.audio.ytdlp_answers import in_process
from tests.media import MediaServer, generate_clock, generate_tone
from tests.media import media_server as serve_media


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Generated once per run: tone.mp3 (440 Hz, 3 s), tone.ogg (440 Hz, 2 s), clock.mp3 (8 s)."""
    root = tmp_path_factory.mktemp("media")
    generate_tone(root / "tone.mp3", 440, 3)
    generate_tone(root / "tone.ogg", 440, 2)
    generate_clock(root / "clock.mp3", 8)
    return root


@pytest.fixture
def media_server(media_dir: Path) -> Iterator[MediaServer]:
    """A fresh loopback server over ``media_dir`` (fresh request log); ``/hang.mp3`` never answers."""
    with serve_media(media_dir, hang_paths={"/hang.mp3"}) as server:
        yield server


@pytest.fixture
def egress() -> Iterator[EgressProxy]:
    """The real egress proxy, letting through 127.0.0.1 (where the tests' media servers are)."""
    proxy = EgressProxy(UrlPolicy(allow_private_network=True))
    yield proxy
    proxy.close()


def job_config(egress: EgressProxy, **overrides: Any) -> ExtractorConfig:
    """An ExtractorConfig whose jobs fetch through ``egress``, as the Extractor's do."""
    fields: dict[str, Any] = {
        "timeout": 10.0,
        "allowed_extractors": allowed_extractors_for(Provider),
        "ffprobe": None,
        "lookup_proxy": egress.url(ClientKind.LOOKUP),
        "media_proxy": egress.url(ClientKind.MEDIA),
    }
    return ExtractorConfig(**{**fields, **overrides})


@pytest.fixture
def extractor_loopback() -> Iterator[Extractor]:
    """An Extractor allowed to fetch from this machine (the self-hoster's ALLOW_PRIVATE_NETWORK=1)."""
    extractor = Extractor(policy=UrlPolicy(allow_private_network=True), timeout=10.0, playlist_limit=3)
    yield extractor
    extractor.close()


def _nothing_resolves(host: str) -> list[str]:
    return []


@pytest.fixture
def extractor_default() -> Iterator[Extractor]:
    """The default rules, with a resolver that knows no name: should any test slip through to
    yt-dlp, its request guard refuses every host before a packet could leave this machine. Jobs run
    in this process, where a test can stand in for yt-dlp's answers."""
    extractor = in_process(UrlPolicy(resolver=_nothing_resolves), timeout=10.0)
    yield extractor
    extractor.close()
