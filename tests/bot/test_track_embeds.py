"""The embeds that show tracks, built from snapshots: every field the controller and `np` promise,
outside text made safe, links only when Discord can read them."""

from __future__ import annotations

from audio.loop_mode import LoopMode
from audio.queue import TrackQueue
from audio.track import Provider, Track
from bot.track_embeds import (
    NowPlaying,
    finished_embed,
    now_playing_embed,
    queue_embed,
    search_embed,
    web_link,
)

SONG = Track(
    title="Song *bold* @everyone",
    page_url="https://www.youtube.com/watch?v=abc",
    duration=185.0,
    uploader="Band <@123>",
    thumbnail="https://i.ytimg.com/vi/abc/hq.jpg",
    provider=Provider.YOUTUBE,
    requester_id=42,
)
NEXT = Track("Next one", "https://soundcloud.com/a/b", 61.0, None, None, Provider.SOUNDCLOUD, 7)


def playing(**changes: object) -> NowPlaying:
    values: dict[str, object] = {
        "track": SONG, "position": 62.0, "paused": False, "loop": LoopMode.OFF, "volume": 80,
        "next_up": NEXT, "waiting": 3,
    }
    values.update(changes)
    return NowPlaying(**values)  # type: ignore[arg-type]


def fields(embed: object) -> dict[str, str]:
    return {f.name or "": f.value or "" for f in embed.fields}  # type: ignore[attr-defined]


def test_now_playing_shows_title_link_uploader_length_asker_thumbnail_position_and_next() -> None:
    embed = now_playing_embed(playing())
    assert embed.title == "Song \\*bold\\* @\u200beveryone"  # markdown escaped, no ping
    assert embed.url == SONG.page_url
    assert embed.description == "by Band <\u200b@123>"
    assert embed.thumbnail.url == SONG.thumbnail
    shown = fields(embed)
    assert shown["Length"] == "3:05"
    assert shown["Asked by"] == "<@42>"
    assert shown["Volume"] == "80%"
    assert shown["Position"].endswith("1:02 / 3:05")
    assert shown["Next"] == "**Next one** (1:01) and 2 more"
    assert embed.footer.text == "Loop off · 3 in the queue"


def test_paused_loop_track_and_an_empty_queue_say_so() -> None:
    embed = now_playing_embed(playing(paused=True, loop=LoopMode.TRACK, next_up=SONG, waiting=0))
    assert fields(embed)["Position"].endswith("· paused")
    assert fields(embed)["Next"] == "This one again (loop track)."
    assert fields(now_playing_embed(playing(next_up=None, waiting=0)))["Next"] == "Nothing after this one."


def test_unknown_length_and_unreadable_links_are_left_out_not_guessed() -> None:
    odd = Track("file", "/music/a.mp3", None, None, "javascript:alert(1)", Provider.DIRECT)
    embed = now_playing_embed(playing(track=odd, next_up=None, waiting=0))
    assert embed.url is None and embed.thumbnail.url is None
    assert fields(embed)["Length"] == "unknown" and fields(embed)["Asked by"] == "the bot"
    assert web_link("http://" + "a" * 3000) is None and web_link("https://x.test/a") == "https://x.test/a"


def test_the_finished_state_keeps_the_last_track_and_says_why() -> None:
    embed = finished_embed(SONG, why="the queue is done.")
    assert embed.title is not None and embed.title.startswith("Song")
    assert embed.description == "by Band <\u200b@123>\nFinished: the queue is done."
    assert not embed.fields
    assert finished_embed(None, why="the queue was cleared.").description == "Finished: the queue was cleared."


def test_queue_pages_and_search_results_list_numbered_safe_titles() -> None:
    queue = TrackQueue()
    queue.extend([Track(f"t{n} <@&1>", f"https://x.test/{n}", 60.0, None, None, Provider.DIRECT) for n in range(12)])
    page = queue_embed(SONG, queue.page(2), 720.0)
    assert page.description is not None
    lines = page.description.splitlines()
    assert lines[0].startswith("Now: **Song")
    assert lines[1] == "Up next (12 tracks, 12:00), page 2/2:"
    assert lines[2] == "`11.` **t10 <\u200b@&1>** (1:00)"
    assert queue_embed(None, None, 0.0).description == "The queue is empty."
    results = search_embed([SONG, NEXT], 30.0)
    assert results.description is not None and results.description.splitlines()[1] == "`2.` **Next one** (1:01)"
    assert results.footer.text == "Reply with 1-2 or cancel within 30 s."
