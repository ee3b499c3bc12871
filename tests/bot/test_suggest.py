"""closest_commands: a mistyped command is answered with the commands it was probably meant to be."""

from __future__ import annotations

from bot.suggest import MAX_SUGGESTIONS, closest_commands

NAMES = [("play", "play"), ("p", "play"), ("playlist", "playlist"), ("pl", "playlist"), ("pause", "pause"),
         ("queue", "queue"), ("q", "queue"), ("skip", "skip"), ("stop", "stop"), ("np", "nowplaying")]


def test_a_swapped_letter_finds_the_command() -> None:
    assert closest_commands("plya", NAMES)[0] == "play"


def test_an_alias_match_names_the_command_once() -> None:
    found = closest_commands("queu", NAMES)
    assert found == ["queue"]


def test_case_does_not_matter() -> None:
    assert closest_commands("SKIPP", NAMES)[0] == "skip"


def test_nothing_close_gives_nothing() -> None:
    assert closest_commands("xyzzy", NAMES) == []


def test_at_most_a_few() -> None:
    assert len(closest_commands("pla", NAMES)) <= MAX_SUGGESTIONS
