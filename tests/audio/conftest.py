"""Fixtures for the audio tests. Each engineer appends; names are prefixed by area."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from audio.egress_proxy import ClientKind, EgressProxy
from audio.extractor import ExtractorConfig, allowed_extractors_for
from audio.track import Provider
from audio.url_policy import UrlPolicy
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
