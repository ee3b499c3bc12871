"""DAVE (Discord's voice E2EE) on the loopback voice server: one MLS group per bot voice session.

The fake plays Discord's part, the external sender: it hands the bot the sender package (op 25),
takes its key package (op 26), proposes adds and removes (op 27), relays the commit one member
made (op 28 in, op 29 out) and the welcome for joiners (op 30), and executes the transition (op 22)
once the bot says it is ready (op 23). The other members of the call are *ears*: a real ``davey``
session for each fake member in the bot's channel, so the audio the bot sends is decrypted the way
a listening Discord client would (no passthrough once the bot is in its group).

Who commits: a new group is created by the participant that was there first (an ear already in
the channel, or the bot when it was alone); later changes are committed by the earliest member
still in the group. So a bot joining a member gets a welcome, a member joining the bot gets the
bot's commit, and a member leaving an older member's or the bot's commit, as in a real call.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import math
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import davey

from tests.fakediscord import mls_wire
from tests.fakediscord.mls_wire import ExternalSender

log = logging.getLogger(__name__)

DAVE_VERSION = 1
OP_EXECUTE_TRANSITION = 22
OP_TRANSITION_READY = 23
OP_EXTERNAL_SENDER = 25
OP_KEY_PACKAGE = 26
OP_PROPOSALS = 27
OP_COMMIT_WELCOME = 28
OP_ANNOUNCE_COMMIT = 29
OP_WELCOME = 30
OP_INVALID_COMMIT_WELCOME = 31
BOT_ANSWER_TIMEOUT = 10.0
# After the bot rejects a commit or welcome (op 31) it is taken in again; not at once, so a fake
# told to keep failing retries once a second instead of spinning.
RETRY_AFTER_INVALID = 1.0
DAVE_FOOTER = b"\xfa\xfa"
OPUS_SILENCE = b"\xf8\xff\xfe"
# Plain frames still heard after the bot took a transition: those it sent before (UDP and the
# websocket race on loopback). A real client allows 10 s; a short window keeps tests strict.
TRANSITION_GRACE = 0.5


class DaveError(Exception):
    """A frame no member of the call could decrypt, or a plain frame where E2EE was due."""


@dataclass(frozen=True, slots=True)
class DaveEpoch:
    """One executed group change: what tests wait for after a member joins or leaves."""

    at: float  # perf_counter
    epoch: int
    transition_id: int
    members: tuple[int, ...]  # user ids in leaf order
    committer: int


@dataclass
class Participant:
    user_id: int
    order: int
    session: davey.DaveSession | None  # None: the bot, reached over its voice websocket
    key_package: bytes | None = None
    leaf: int | None = None


@dataclass
class _BotAnswers:
    commit: asyncio.Future[bytes] | None = None
    ready: dict[int, asyncio.Future[bool]] = field(default_factory=dict)


class DaveCall:
    """The group of one voice session. Runs on the fake's loop; ``send`` writes to the bot."""

    def __init__(
        self, *, bot_id: int, channel_id: int, send: Callable[[int, bytes | dict[str, Any]], None],
        on_change: Callable[[], None],
    ) -> None:
        self.bot_id = bot_id
        self.channel_id = channel_id
        self._send = send
        self._on_change = on_change
        self._sender = ExternalSender.generate()
        self._group_id = mls_wire.group_id(channel_id)
        self._order = itertools.count()
        self._transition_ids = itertools.count(1)
        self.participants: dict[int, Participant] = {}
        self.leaves: list[int | None] = []  # user id per leaf index
        self.epoch: int | None = None  # None: no group yet
        self._departed: list[int] = []  # leaves to remove in the next commit
        self._answers = _BotAnswers()
        self._dirty = asyncio.Event()
        self._runner: asyncio.Task[None] | None = None
        self._retry_at = 0.0
        self._plain_until = math.inf  # plain frames are heard until then (see hear)
        self.epochs: list[DaveEpoch] = []
        self.invalid_from_bot: list[int] = []  # transition ids the bot reported with op 31
        self.corrupt_for_bot = False  # failure injection: the bot gets damaged commits/welcomes

    # --- participants ------------------------------------------------------------------------------

    def start(self) -> None:
        """SESSION_DESCRIPTION announced DAVE: the bot joins the call, the sender package follows."""
        self.participants[self.bot_id] = Participant(self.bot_id, next(self._order), None)
        self._send(OP_EXTERNAL_SENDER, self._sender.package())
        self._runner = asyncio.ensure_future(self._run())

    def close(self) -> None:
        if self._runner is not None:
            self._runner.cancel()

    def resume(self) -> None:
        """The bot resumed its voice session: the group lives on."""
        if self._runner is None or self._runner.done():
            self._runner = asyncio.ensure_future(self._run())
            self._dirty.set()

    def add_ear(self, user_id: int) -> None:
        if user_id in self.participants:
            return
        session = davey.DaveSession(DAVE_VERSION, user_id, self.channel_id)
        session.set_external_sender(self._sender.package())
        ear = Participant(user_id, next(self._order), session, session.get_serialized_key_package())
        self.participants[user_id] = ear
        self._dirty.set()

    def remove(self, user_id: int) -> None:
        gone = self.participants.pop(user_id, None)
        if gone is not None and gone.leaf is not None:
            self._departed.append(gone.leaf)
        self._dirty.set()

    # --- from the bot ------------------------------------------------------------------------------

    def on_binary(self, op: int, payload: bytes) -> None:
        bot = self.participants[self.bot_id]
        if op == OP_KEY_PACKAGE:
            if bot.leaf is not None:  # a fresh start of a member: out with the old leaf
                self._departed.append(bot.leaf)
                bot.leaf = None
            bot.key_package = payload
            self._dirty.set()
        elif op == OP_COMMIT_WELCOME and self._answers.commit is not None and not self._answers.commit.done():
            self._answers.commit.set_result(payload)
        else:
            log.warning("fake discord: unexpected DAVE binary op %s from the bot", op)

    def on_json(self, op: int, d: dict[str, Any]) -> None:
        transition_id = int(d.get("transition_id", 0))
        waiting = self._answers.ready.get(transition_id)
        if op == OP_TRANSITION_READY:
            if waiting is not None and not waiting.done():
                waiting.set_result(True)
        elif op == OP_INVALID_COMMIT_WELCOME:
            self.invalid_from_bot.append(transition_id)
            bot = self.participants[self.bot_id]
            if bot.leaf is not None:
                self._departed.append(bot.leaf)
                bot.leaf = None
            self._retry_at = time.perf_counter() + RETRY_AFTER_INVALID
            self._plain_until = time.perf_counter()
            if waiting is not None and not waiting.done():
                waiting.set_result(False)
            self._dirty.set()
            self._on_change()

    # --- listening -----------------------------------------------------------------------------------

    def listener(self) -> Participant | None:
        """The ear that hears the bot: the earliest member that shares a group with it."""
        ears = [p for p in self.participants.values() if p.session is not None and p.leaf is not None]
        return min(ears, key=lambda p: p.order, default=None)

    def hear(self, frame: bytes) -> tuple[bytes, bool]:
        """(Opus frame, whether it came end-to-end encrypted) as the listening member gets it.

        A plain frame is heard only while the bot is not yet in a group with a member, or within
        TRANSITION_GRACE of the bot taking a transition (frames already on their way); after that
        a member's client drops it, and so does this ear (a DaveError).
        """
        if frame == OPUS_SILENCE:
            return frame, False
        ear = self.listener()
        if ear is None or ear.session is None:
            if frame.endswith(DAVE_FOOTER):
                raise DaveError("an E2EE frame, but no member of the call shares a group with the bot")
            return frame, False
        before = self._passthroughs(ear.session)
        try:
            heard = bytes(ear.session.decrypt(self.bot_id, davey.MediaType.audio, frame))
        except Exception as exc:  # davey raises plain exceptions
            if not frame.endswith(DAVE_FOOTER):
                heard = frame  # no decryptor for the bot: it is not in this member's group
            else:
                raise DaveError(f"member {ear.user_id} could not decrypt an E2EE frame (epoch {self.epoch}): {exc}") from exc
        plain = heard is frame or self._passthroughs(ear.session) > before
        if plain and time.perf_counter() >= self._plain_until:
            raise DaveError(f"member {ear.user_id} got a frame that was not end-to-end encrypted (epoch {self.epoch})")
        return heard, not plain

    def _passthroughs(self, session: davey.DaveSession) -> int:
        try:
            stats = session.get_decryption_stats(self.bot_id)
        except Exception:  # no decryptor for the bot yet
            return 0
        return 0 if stats is None else stats.passthroughs

    # --- the group -----------------------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            delay = self._retry_at - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            try:
                while await self._round():
                    pass
            except Exception:
                log.exception("fake discord: DAVE round failed")

    async def _round(self) -> bool:
        """Propose, commit, announce and execute one change; False when nothing is to change."""
        joiners = sorted((p for p in self.participants.values() if p.leaf is None and p.key_package), key=lambda p: p.order)
        creating = self.epoch is None or not any(p.leaf is not None for p in self.participants.values())
        if creating:
            if len(joiners) < 2:
                return False
            self.epoch, self.leaves, self._departed = None, [], []
            committer, adds, removes = joiners[0], joiners[1:], []
            recipients = [committer]
        else:
            adds, removes = joiners, list(self._departed)
            if not adds and not removes:
                return False
            recipients = sorted((p for p in self.participants.values() if p.leaf is not None), key=lambda p: p.order)
            committer = recipients[0]
        epoch = self.epoch or 0
        messages = [self._sender.remove(self._group_id, epoch, leaf) for leaf in removes]
        messages += [self._sender.add(self._group_id, epoch, p.key_package or b"") for p in adds]
        proposals = mls_wire.proposals_payload(messages)
        commit, welcome = await self._collect_commit(recipients, committer, proposals)
        if commit is None:
            return False
        self._apply(committer if creating else None, adds, removes)
        transition_id = next(self._transition_ids) % 0xFFFF or next(self._transition_ids)
        header = struct.pack(">H", transition_id)
        bot_in = False
        for p in recipients:
            bot_in |= self._deliver(p, OP_ANNOUNCE_COMMIT, header, commit)
        for p in adds:
            bot_in |= self._deliver(p, OP_WELCOME, header, welcome or b"")
        if bot_in:
            self._plain_until = math.inf
            if not await self._bot_ready(transition_id):
                return False  # the bot refused it (op 31): it is taken in again after RETRY_AFTER_INVALID
            self._send(OP_EXECUTE_TRANSITION, {"transition_id": transition_id})
            self._plain_until = time.perf_counter() + TRANSITION_GRACE
        self.epochs.append(DaveEpoch(
            time.perf_counter(), self.epoch or 0, transition_id, tuple(u for u in self.leaves if u is not None),
            committer.user_id,
        ))
        self._on_change()
        return True

    async def _collect_commit(
        self, recipients: list[Participant], committer: Participant, proposals: bytes
    ) -> tuple[bytes | None, bytes | None]:
        loop = asyncio.get_running_loop()
        result: davey.CommitWelcome | None = None
        if committer.session is None:
            self._answers.commit = loop.create_future()
        for p in recipients:
            if p.session is None:
                self._send(OP_PROPOSALS, proposals)
            else:
                made = p.session.process_proposals(davey.ProposalsOperationType.append, proposals[1:])
                if p is committer:
                    result = made
        if committer.session is not None:
            if result is None:
                raise RuntimeError(f"member {committer.user_id} made no commit")
            return result.commit, result.welcome
        assert self._answers.commit is not None
        try:
            async with asyncio.timeout(BOT_ANSWER_TIMEOUT):
                payload = await self._answers.commit
        except TimeoutError:
            log.warning("fake discord: the bot sent no commit (op 28) for its proposals")
            return None, None
        return mls_wire.split_commit_welcome(payload)

    def _apply(self, creator: Participant | None, adds: list[Participant], removes: list[int]) -> None:
        if creator is not None:
            self.leaves = [creator.user_id]
            creator.leaf, creator.key_package = 0, None
        for leaf in removes:
            self.leaves[leaf] = None
        while self.leaves and self.leaves[-1] is None:
            self.leaves.pop()
        for p in adds:
            free = next((i for i, u in enumerate(self.leaves) if u is None), len(self.leaves))
            if free == len(self.leaves):
                self.leaves.append(None)
            self.leaves[free] = p.user_id
            p.leaf, p.key_package = free, None
        self._departed = []
        self.epoch = (self.epoch or 0) + 1

    def _deliver(self, p: Participant, op: int, header: bytes, message: bytes) -> bool:
        """Commit (op 29) or welcome (op 30) to one member; True when that member is the bot."""
        if p.session is None:
            if self.corrupt_for_bot:
                message = message[:-8] + bytes(b ^ 0x5A for b in message[-8:])
            self._send(op, header + message)
            return True
        if op == OP_ANNOUNCE_COMMIT:
            p.session.process_commit(message)
        else:
            p.session.process_welcome(message)
        p.session.set_passthrough_mode(True)  # the fake, not davey, decides when plain frames count (hear)
        return False

    async def _bot_ready(self, transition_id: int) -> bool:
        ready = self._answers.ready[transition_id] = asyncio.get_running_loop().create_future()
        try:
            async with asyncio.timeout(BOT_ANSWER_TIMEOUT):
                return await ready
        except TimeoutError:
            log.warning("fake discord: the bot never said it was ready for DAVE transition %s", transition_id)
            return False
        finally:
            with contextlib.suppress(KeyError):
                del self._answers.ready[transition_id]
