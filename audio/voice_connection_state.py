"""discord.py's voice connection state, with waits for the next connection step that cannot miss it.

discord.py 2.7.1 waits for a step of the voice handshake (both voice updates, the websocket
ready, connected) by checking the state and then awaiting ``sane_wait_for([event.wait()])``. That
wraps ``event.wait()`` in a new task, which registers itself on the event only when the loop runs
it, one step later; the state setter calls ``set()`` and then ``clear()`` at once. A change that
lands in that step (the second voice update arriving right behind the first is the usual one)
wakes nobody, and the join waits for its timeout although both updates came. Awaiting
``event.wait()`` directly registers the waiter in the same step as the check.
"""

from __future__ import annotations

import asyncio

from discord.voice_state import ConnectionFlowState, VoiceConnectionState


class ReliableVoiceConnectionState(VoiceConnectionState):
    """discord.py's VoiceConnectionState with a ``_wait_for_state`` that has no lost wake-ups."""

    async def _wait_for_state(
        self, state: ConnectionFlowState, *other_states: ConnectionFlowState, timeout: float | None = None
    ) -> None:
        states = (state, *other_states)
        # The timeout bounds the whole wait, not each change of state on the way.
        async with asyncio.timeout(timeout):
            while self.state not in states:
                await self._state_event.wait()
