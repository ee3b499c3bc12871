"""discord.py's VoiceClient, but playing on a shared VoiceClock instead of an AudioPlayer thread."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

import discord
from discord import opus

from audio.clocked_player import ClockedPlayer
from audio.voice_clock import HasVoiceClocks, VoiceClock
from audio.voice_connection_state import ReliableVoiceConnectionState

if TYPE_CHECKING:
    from discord.opus import APPLICATION_CTL, BAND_CTL, SIGNAL_CTL

    from audio.player import VoiceTarget


def refuse_unplayable(voice: VoiceTarget, source: object) -> None:
    """discord.VoiceClient.play's checks, in its order: a play() that replaces it (here, or a test's
    stand-in) must refuse exactly what discord.py refuses."""
    if not voice.is_connected():
        raise discord.ClientException("Not connected to voice.")
    if voice.is_playing():
        raise discord.ClientException("Already playing audio.")
    if not isinstance(source, discord.AudioSource):
        raise TypeError(f"source must be an AudioSource not {source.__class__.__name__}")


class ClockedVoiceClient(discord.VoiceClient):
    """Everything but ``play`` and the connection's waits (:mod:`audio.voice_connection_state`) is
    discord.py's own; ``pause``, ``resume``, ``stop`` and ``source`` reach the ClockedPlayer through
    the same ``_player`` attribute they use for an AudioPlayer.

    A connection keeps the clock it first played on, so a new play can never race a stopped
    one's closing packets on another thread.
    """

    _clock: VoiceClock | None = None

    def create_connection_state(self) -> ReliableVoiceConnectionState:
        return ReliableVoiceConnectionState(self)

    def play(  # the same parameters as discord.py 2.7's play
        self,
        source: discord.AudioSource,
        *,
        after: Callable[[Exception | None], Any] | None = None,
        application: APPLICATION_CTL = "audio",
        bitrate: int = 128,
        fec: bool = True,
        expected_packet_loss: float = 0.15,
        bandwidth: BAND_CTL = "full",
        signal_type: SIGNAL_CTL = "auto",
    ) -> None:
        refuse_unplayable(self, source)
        if not source.is_opus():
            self.encoder = opus.Encoder(
                application=application,
                bitrate=bitrate,
                fec=fec,
                expected_packet_loss=expected_packet_loss,
                bandwidth=bandwidth,
                signal_type=signal_type,
            )
        if self._clock is None:
            self._clock = cast(HasVoiceClocks, self.client).voice_clocks.pick()
        player = ClockedPlayer(source, self, self._clock, after=after)
        self._player = player  # type: ignore[assignment]  # duck-typed AudioPlayer
        player.start()
