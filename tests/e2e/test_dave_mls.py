"""The fake's external-sender bytes (tests/fakediscord/mls_wire.py) against real davey clients.

No bot here: three davey sessions form, grow and shrink a group from the fake's proposals alone,
so a failure in the DAVE e2e tests can be told apart from a fault in the fake's MLS encoding.
"""

from __future__ import annotations

import davey
import pytest

from tests.fakediscord import mls_wire
from tests.fakediscord.mls_wire import ExternalSender

CHANNEL = 927310423890473011
APPEND = davey.ProposalsOperationType.append
FRAME = b"\xfc" + bytes(range(1, 80))


def member(user_id: int, sender: ExternalSender) -> tuple[davey.DaveSession, bytes]:
    session = davey.DaveSession(1, user_id, CHANNEL)
    key_package = session.get_serialized_key_package()
    session.set_external_sender(sender.package())
    return session, key_package


def heard(listener: davey.DaveSession, speaker: davey.DaveSession) -> bytes:
    encrypted = speaker.encrypt_opus(FRAME)
    assert encrypted != FRAME and encrypted.endswith(b"\xfa\xfa")
    return bytes(listener.decrypt(speaker.user_id, davey.MediaType.audio, encrypted))


@pytest.mark.parametrize(("length", "prefix"), [(0, 1), (63, 1), (64, 2), (16383, 2), (16384, 4)])
def test_vectors_read_back_with_the_shortest_length_prefix(length: int, prefix: int) -> None:
    data = mls_wire.opaque(b"x" * length)
    reader = mls_wire.Reader(data)
    assert reader.vector() == b"x" * length
    assert len(data) == prefix + length and reader.offset == len(data)


def test_a_group_forms_grows_and_shrinks_from_the_fakes_proposals() -> None:
    sender = ExternalSender.generate()
    group = mls_wire.group_id(CHANNEL)
    alice, alice_kp = member(1, sender)
    bot, bot_kp = member(2, sender)
    del alice_kp

    made = alice.process_proposals(APPEND, mls_wire.proposals_payload([sender.add(group, 0, bot_kp)])[1:])
    assert made is not None and made.welcome is not None
    commit, welcome = mls_wire.split_commit_welcome(made.commit + made.welcome)
    assert (commit, welcome) == (made.commit, made.welcome)
    assert mls_wire.commit_epoch(commit) == 0
    alice.process_commit(commit)
    bot.process_welcome(welcome)
    assert (alice.epoch, bot.epoch, bot.own_leaf_index) == (1, 1, 1)
    assert heard(alice, bot) == FRAME

    bob, bob_kp = member(3, sender)
    proposals = mls_wire.proposals_payload([sender.add(group, 1, bob_kp)])[1:]
    made = alice.process_proposals(APPEND, proposals)
    assert bot.process_proposals(APPEND, proposals) is not None  # a member's own commit, not taken
    assert made is not None and made.welcome is not None
    alice.process_commit(made.commit)
    bot.process_commit(made.commit)
    bob.process_welcome(made.welcome)
    assert (alice.epoch, bot.epoch, bob.epoch, bob.own_leaf_index) == (2, 2, 2, 2)
    assert heard(bob, bot) == FRAME

    proposals = mls_wire.proposals_payload([sender.remove(group, 2, 0)])[1:]  # alice leaves
    made = bot.process_proposals(APPEND, proposals)
    bob.process_proposals(APPEND, proposals)
    assert made is not None and made.welcome is None
    assert mls_wire.split_commit_welcome(made.commit) == (made.commit, None)
    bot.process_commit(made.commit)
    bob.process_commit(made.commit)
    assert sorted(bob.get_user_ids()) == ["2", "3"]
    assert heard(bob, bot) == FRAME


def test_proposals_signed_by_another_sender_are_refused() -> None:
    sender, impostor = ExternalSender.generate(), ExternalSender.generate()
    alice, _ = member(1, sender)
    _, bot_kp = member(2, sender)
    forged = mls_wire.proposals_payload([impostor.add(mls_wire.group_id(CHANNEL), 0, bot_kp)])[1:]
    with pytest.raises(Exception, match="(?i)signature|verif|invalid"):
        alice.process_proposals(APPEND, forged)
