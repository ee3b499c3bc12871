"""What autoplay asks for after a track, and which of the answers it takes."""

from __future__ import annotations

import pytest

from audio.extractor.related import pick_related, related_query
from audio.track import Provider, Track


def track(url: str, provider: Provider, uploader: str | None = "Rick Astley", title: str = "Song") -> Track:
    return Track(title, url, 200.0, uploader, None, provider)


@pytest.mark.parametrize(("played", "query"), [
    (track("https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=42", Provider.YOUTUBE),
     "https://www.youtube.com/playlist?list=RDdQw4w9WgXcQ"),
    (track("https://youtu.be/dQw4w9WgXcQ", Provider.YOUTUBE), "https://www.youtube.com/playlist?list=RDdQw4w9WgXcQ"),
    (track("https://soundcloud.com/nightfall-audio/midnight-drive?in=x", Provider.SOUNDCLOUD),
     "https://soundcloud.com/nightfall-audio/midnight-drive/recommended"),
    (track("https://example.org/a.mp3", Provider.DIRECT), "Rick Astley"),
    (track("https://example.org/a.mp3", Provider.DIRECT, uploader=None, title="A Song"), "A Song"),
    (track("http://127.0.0.1:8000/watch.mp3", Provider.YOUTUBE), "Rick Astley"),  # no video id: a search
])
def test_related_query(played: Track, query: str) -> None:
    assert related_query(played) == query


def test_pick_related_skips_the_track_itself_and_recent_plays() -> None:
    last = track("https://www.youtube.com/watch?v=aaaaaaaaaaa", Provider.YOUTUBE)
    mix = [last, track("https://www.youtube.com/watch?v=bbbbbbbbbbb", Provider.YOUTUBE),
           track("https://www.youtube.com/watch?v=ccccccccccc", Provider.YOUTUBE)]
    assert pick_related(mix, played={mix[1].page_url}, after=last) is mix[2]
    assert pick_related(mix, played=set(), after=last) is mix[1]
    assert pick_related(mix[:2], played={mix[1].page_url}, after=last) is None
