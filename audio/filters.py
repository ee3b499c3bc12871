"""Audio effects as one validated value, and the ffmpeg filter graph that value becomes.

:class:`Filters` is what a guild's player plays with. It comes from members' text (the ``filter``
command) and from the store's saved text, both through :meth:`Filters.with_setting`, so a value
outside its range never exists. :meth:`Filters.graph` formats every number itself: no user text
reaches ffmpeg, and the graph is one argv item after ``-af``, never a shell string.

Some effects change how fast the track goes by: :attr:`Filters.tempo` is the seconds of track one
second of output covers, which :class:`audio.timed_audio.TimedAudio` uses to keep its position in
track time.
"""

from __future__ import annotations

import dataclasses
import enum
import logging
import re
from dataclasses import dataclass

from audio.errors import FilterError

log = logging.getLogger(__name__)

SAMPLE_RATE = 48000
BASS_LEVELS = 5
BASS_DB_PER_LEVEL = 3.0
BASS_HZ = 110
DEFAULT_BASS = 3
SPEED_MIN, SPEED_MAX = 0.5, 2.0
PITCH_MIN, PITCH_MAX = -12, 12  # semitones
EIGHT_D_HZ = 0.125  # one turn around the head every 8 s

# Centre frequency (Hz) and gain (dB) of each band, one-octave wide peaks.
EQ_PRESETS: dict[str, tuple[tuple[int, float], ...]] = {
    "pop": ((60, -1.0), (230, 2.0), (910, 4.0), (3600, 2.0), (14000, -1.0)),
    "rock": ((60, 4.0), (230, 2.0), (910, -2.0), (3600, 3.0), (14000, 4.0)),
    "jazz": ((60, 3.0), (230, 1.0), (910, -1.0), (3600, 2.0), (14000, 3.0)),
    "classical": ((60, 3.0), (230, 1.0), (910, 0.0), (3600, -1.0), (14000, 3.0)),
    "electronic": ((60, 5.0), (230, 1.0), (910, -1.0), (3600, 2.0), (14000, 4.0)),
    "vocal": ((60, -3.0), (230, -1.0), (910, 3.0), (3600, 4.0), (14000, 0.0)),
    "treble": ((3600, 4.0), (7000, 5.0), (14000, 6.0)),
}


class Style(enum.StrEnum):
    """A resampled replay: tempo and pitch change together (one excludes the other)."""

    NIGHTCORE = "nightcore"
    VAPORWAVE = "vaporwave"

    @property
    def rate(self) -> float:
        return 1.25 if self is Style.NIGHTCORE else 0.8


@dataclass(frozen=True, slots=True)
class Filters:
    """The effects on; the default value is none at all."""

    bass: int = 0  # 0 (off) .. BASS_LEVELS
    speed: float = 1.0  # tempo without pitch, SPEED_MIN .. SPEED_MAX
    pitch: int = 0  # semitones, pitch without tempo
    style: Style | None = None
    equalizer: str | None = None  # a key of EQ_PRESETS
    karaoke: bool = False  # centre cut: what is panned to the middle (usually the voice) goes
    eight_d: bool = False  # the sound circles from one ear to the other

    def __post_init__(self) -> None:
        if not 0 <= self.bass <= BASS_LEVELS:
            raise ValueError(f"bass must be 0..{BASS_LEVELS}")
        if not SPEED_MIN <= self.speed <= SPEED_MAX:  # also refuses NaN
            raise ValueError(f"speed must be {SPEED_MIN}..{SPEED_MAX}")
        if not PITCH_MIN <= self.pitch <= PITCH_MAX:
            raise ValueError(f"pitch must be {PITCH_MIN}..{PITCH_MAX}")
        if self.equalizer is not None and self.equalizer not in EQ_PRESETS:
            raise ValueError(f"unknown equalizer preset {self.equalizer!r}")

    @property
    def active(self) -> bool:
        return self != NO_FILTERS

    @property
    def tempo(self) -> float:
        """Seconds of the track that one second of output covers."""
        return self.speed * (self.style.rate if self.style is not None else 1.0)

    def graph(self) -> str | None:
        """The ``-af`` filter graph, or None when no effect is on."""
        if not self.active:
            return None
        parts = [f"aformat=sample_rates={SAMPLE_RATE}:channel_layouts=stereo"]
        pitch_ratio = 2.0 ** (self.pitch / 12)
        rate = pitch_ratio * (self.style.rate if self.style is not None else 1.0)
        if rate != 1.0:
            parts += [f"asetrate={round(SAMPLE_RATE * rate)}", f"aresample={SAMPLE_RATE}"]
        if self.pitch:
            parts.append(f"atempo={1 / pitch_ratio:.6f}")  # the pitch stays, the tempo goes back
        if self.speed != 1.0:
            parts.append(f"atempo={self.speed:.6f}")
        if self.equalizer is not None:
            parts += [f"equalizer=f={hz}:t=o:w=1:g={gain:.1f}" for hz, gain in EQ_PRESETS[self.equalizer]]
        if self.bass:
            parts.append(f"bass=g={self.bass * BASS_DB_PER_LEVEL:.1f}:f={BASS_HZ}:w=0.6")
        if self.karaoke:
            parts.append("pan=stereo|c0=0.5*c0-0.5*c1|c1=0.5*c1-0.5*c0")
        if self.eight_d:
            parts.append(f"apulsator=hz={EIGHT_D_HZ}")
        return ",".join(parts)

    def labels(self) -> tuple[str, ...]:
        """Each effect that is on, as members read it (``bass 3``, ``speed 1.5x``)."""
        return tuple(f"{name} {value}" if value else name for name, value in self._settings())

    def to_text(self) -> str:
        """The stored form (``bass=3 speed=1.5 karaoke``), read back by :meth:`from_text`."""
        return " ".join(f"{name}={value}" if value else name for name, value in self._settings())

    def _settings(self) -> list[tuple[str, str]]:
        settings: list[tuple[str, str]] = []
        if self.bass:
            settings.append(("bass", str(self.bass)))
        if self.style is not None:
            settings.append((self.style.value, ""))
        if self.speed != 1.0:
            settings.append(("speed", f"{self.speed:g}"))
        if self.pitch:
            settings.append(("pitch", f"{self.pitch:+d}"))
        if self.equalizer is not None:
            settings.append(("eq", self.equalizer))
        if self.karaoke:
            settings.append(("karaoke", ""))
        if self.eight_d:
            settings.append(("8d", ""))
        return settings

    @classmethod
    def from_text(cls, text: str) -> Filters:
        """The stored form back; a damaged setting is left out (and logged), never fatal."""
        filters = NO_FILTERS
        for token in text.split():
            name, _, value = token.partition("=")
            try:
                filters = filters.with_setting(name, value or None)
            except FilterError:
                log.warning("ignoring a damaged saved filter setting %r", token[:40])
        return filters

    def with_setting(self, name: str, value: str | None = None) -> Filters:
        """These filters with ``name`` set to ``value`` (member's words); FilterError says what fits."""
        key = FILTER_NAMES.get(name.strip().lower())
        if key is None:
            raise FilterError(f"There is no filter called that. Filters: {', '.join(FILTER_LIST)}.")
        word = value.strip().lower() if value is not None else None
        off = word in _OFF_WORDS
        match key:
            case "bass":
                return dataclasses.replace(self, bass=0 if off else _bass_level(word))
            case "nightcore" | "vaporwave":
                style = Style(key)
                if off:
                    return dataclasses.replace(self, style=None if self.style is style else self.style)
                return dataclasses.replace(self, style=style if _switch(word, key) else None)
            case "speed":
                return dataclasses.replace(self, speed=1.0 if off else _speed(word))
            case "pitch":
                return dataclasses.replace(self, pitch=0 if off else _pitch(word))
            case "eq":
                return dataclasses.replace(self, equalizer=None if off else _preset(word))
            case "karaoke":
                return dataclasses.replace(self, karaoke=not off and _switch(word, key))
            case _:
                return dataclasses.replace(self, eight_d=not off and _switch(word, key))


NO_FILTERS = Filters()

FILTER_NAMES: dict[str, str] = {
    "bass": "bass", "bassboost": "bass", "bb": "bass",
    "nightcore": "nightcore", "nc": "nightcore",
    "vaporwave": "vaporwave", "vw": "vaporwave",
    "speed": "speed", "tempo": "speed",
    "pitch": "pitch",
    "eq": "eq", "equalizer": "eq", "equaliser": "eq",
    "karaoke": "karaoke",
    "8d": "8d",
}  # fmt: skip
FILTER_LIST = ("bass", "nightcore", "vaporwave", "speed", "pitch", "eq", "karaoke", "8d")
_OFF_WORDS = frozenset({"off", "0", "none", "no", "false", "disable", "reset"})
_ON_WORDS = frozenset({"on", "1", "yes", "true", "enable"})
_DECIMAL = re.compile(r"\d(?:\.\d{1,2})?", re.ASCII)
_SIGNED = re.compile(r"[+-]?\d{1,2}", re.ASCII)


def _switch(word: str | None, name: str) -> bool:
    if word is None or word in _ON_WORDS:
        return True
    raise FilterError(f"`{name}` is `on` or `off`.")


def _bass_level(word: str | None) -> int:
    if word is None:
        return DEFAULT_BASS
    if word.isascii() and word.isdigit() and 1 <= int(word) <= BASS_LEVELS:
        return int(word)
    raise FilterError(f"Bass boost goes from 1 to {BASS_LEVELS} (or `off`).")


def _speed(word: str | None) -> float:
    usage = f"Speed goes from {SPEED_MIN} to {SPEED_MAX}, like `1.25` (or `off`)."
    text = (word or "").removesuffix("x")
    if not _DECIMAL.fullmatch(text) or not SPEED_MIN <= float(text) <= SPEED_MAX:
        raise FilterError(usage)
    return float(text)


def _pitch(word: str | None) -> int:
    usage = f"Pitch goes from {PITCH_MIN} to +{PITCH_MAX} semitones, like `+2` (or `off`)."
    if word is None or not _SIGNED.fullmatch(word) or not PITCH_MIN <= int(word) <= PITCH_MAX:
        raise FilterError(usage)
    return int(word)


def _preset(word: str | None) -> str:
    if word is None or word not in EQ_PRESETS:
        raise FilterError(f"Equalizer presets: {', '.join(EQ_PRESETS)} (or `off`).")
    return word
