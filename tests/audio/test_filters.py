"""Filters: what members may set, the messages for what they may not, and the graph ffmpeg gets."""

from __future__ import annotations

import subprocess

import pytest

from audio.errors import FilterError
from audio.ffmpeg_args import ffmpeg_output_args
from audio.filters import EQ_PRESETS, FILTER_LIST, NO_FILTERS, Filters, Style
from tests.media import FFMPEG


def test_no_filters_means_no_graph_and_normal_tempo() -> None:
    assert not NO_FILTERS.active
    assert NO_FILTERS.graph() is None
    assert NO_FILTERS.tempo == 1.0
    assert "-af" not in ffmpeg_output_args(3840, graph=NO_FILTERS.graph())


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("bass", None, Filters(bass=3)),
        ("bassboost", "5", Filters(bass=5)),
        ("BB", " 1 ", Filters(bass=1)),
        ("nightcore", None, Filters(style=Style.NIGHTCORE)),
        ("nc", "on", Filters(style=Style.NIGHTCORE)),
        ("vaporwave", None, Filters(style=Style.VAPORWAVE)),
        ("speed", "1.5", Filters(speed=1.5)),
        ("tempo", "0.75x", Filters(speed=0.75)),
        ("speed", "2", Filters(speed=2.0)),
        ("pitch", "+3", Filters(pitch=3)),
        ("pitch", "-12", Filters(pitch=-12)),
        ("equaliser", "rock", Filters(equalizer="rock")),
        ("eq", "POP", Filters(equalizer="pop")),
        ("karaoke", None, Filters(karaoke=True)),
        ("8d", "on", Filters(eight_d=True)),
    ],
)
def test_each_setting_from_members_words(name: str, value: str | None, expected: Filters) -> None:
    assert NO_FILTERS.with_setting(name, value) == expected


@pytest.mark.parametrize(
    ("name", "value", "names_in_reply"),
    [
        ("reverb", None, FILTER_LIST),
        ("", None, FILTER_LIST),
        ("bass", "6", ("1", "5")),
        ("bass", "-1", ("1", "5")),
        ("bass", "٣", ("1", "5")),  # an Arabic-Indic digit is not a level
        ("speed", None, ("0.5", "2.0")),
        ("speed", "2.5", ("0.5", "2.0")),
        ("speed", "0.49", ("0.5", "2.0")),
        ("speed", "nan", ("0.5", "2.0")),
        ("speed", "1e0", ("0.5", "2.0")),
        ("pitch", "13", ("-12", "+12")),
        ("pitch", "1.5", ("-12", "+12")),
        ("eq", "loud", tuple(EQ_PRESETS)),
        ("eq", None, tuple(EQ_PRESETS)),
        ("karaoke", "maybe", ("on", "off")),
    ],
)
def test_a_bad_name_or_value_is_refused_naming_what_fits(
    name: str, value: str | None, names_in_reply: tuple[str, ...]
) -> None:
    with pytest.raises(FilterError) as refused:
        Filters(bass=2).with_setting(name, value)
    for word in names_in_reply:
        assert word in refused.value.user_message


def test_off_turns_one_setting_off_and_keeps_the_others() -> None:
    filters = Filters(bass=4, speed=1.25, style=Style.NIGHTCORE, karaoke=True)
    assert filters.with_setting("bass", "off") == Filters(speed=1.25, style=Style.NIGHTCORE, karaoke=True)
    assert filters.with_setting("speed", "off").speed == 1.0
    assert filters.with_setting("vaporwave", "off").style is Style.NIGHTCORE  # not the one on
    assert filters.with_setting("nightcore", "off").style is None
    assert filters.with_setting("karaoke", "no").karaoke is False


def test_nightcore_and_vaporwave_exclude_each_other() -> None:
    assert Filters(style=Style.NIGHTCORE).with_setting("vaporwave").style is Style.VAPORWAVE


def test_out_of_range_values_cannot_be_built_directly() -> None:
    for bad in ({"bass": 6}, {"speed": 2.01}, {"speed": float("nan")}, {"pitch": -13}, {"equalizer": "x"}):
        with pytest.raises(ValueError):
            Filters(**bad)  # type: ignore[arg-type]


def test_tempo_is_track_seconds_per_output_second() -> None:
    assert Filters(speed=1.5).tempo == 1.5
    assert Filters(style=Style.NIGHTCORE).tempo == 1.25
    assert Filters(style=Style.VAPORWAVE, speed=2.0).tempo == pytest.approx(1.6)
    assert Filters(pitch=7).tempo == 1.0  # pitch alone keeps the tempo


def test_graph_of_each_effect() -> None:
    head = "aformat=sample_rates=48000:channel_layouts=stereo"
    assert Filters(style=Style.NIGHTCORE).graph() == f"{head},asetrate=60000,aresample=48000"
    assert Filters(style=Style.VAPORWAVE).graph() == f"{head},asetrate=38400,aresample=48000"
    assert Filters(speed=1.5).graph() == f"{head},atempo=1.500000"
    assert Filters(pitch=12).graph() == f"{head},asetrate=96000,aresample=48000,atempo=0.500000"
    assert Filters(bass=2).graph() == f"{head},bass=g=6.0:f=110:w=0.6"
    assert Filters(karaoke=True).graph() == f"{head},pan=stereo|c0=0.5*c0-0.5*c1|c1=0.5*c1-0.5*c0"
    assert Filters(eight_d=True).graph() == f"{head},apulsator=hz=0.125"
    assert Filters(equalizer="treble").graph() == (
        f"{head},equalizer=f=3600:t=o:w=1:g=4.0,equalizer=f=7000:t=o:w=1:g=5.0,equalizer=f=14000:t=o:w=1:g=6.0"
    )


def test_the_graph_is_one_argv_item_after_af() -> None:
    graph = Filters(bass=1, speed=0.5, eight_d=True).graph()
    args = ffmpeg_output_args(3840, graph=graph)
    assert args[args.index("-af") + 1] == graph
    assert args[-1] == "pipe:1"


def test_every_combination_of_effects_is_a_graph_ffmpeg_accepts() -> None:
    everything = Filters(
        bass=5, speed=0.5, pitch=-12, style=Style.VAPORWAVE, equalizer="classical", karaoke=True, eight_d=True
    )
    graph = everything.graph()
    assert graph is not None
    done = subprocess.run(
        [FFMPEG, "-nostdin", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=440:duration=0.5",
         "-af", graph, "-f", "null", "-"],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def test_text_form_round_trips_and_damage_is_left_out() -> None:
    filters = Filters(bass=2, speed=1.25, pitch=-3, style=Style.NIGHTCORE, equalizer="jazz", eight_d=True)
    assert Filters.from_text(filters.to_text()) == filters
    assert NO_FILTERS.to_text() == ""
    assert Filters.from_text("") == NO_FILTERS
    assert Filters.from_text("bass=9 speed=1.5 reverb karaoke=maybe") == Filters(speed=1.5)


def test_labels_say_what_is_on() -> None:
    assert Filters(bass=3, speed=1.5, style=Style.NIGHTCORE, pitch=2).labels() == (
        "bass 3",
        "nightcore",
        "speed 1.5",
        "pitch +2",
    )
    assert NO_FILTERS.labels() == ()
