"""When the controller may edit its message: changes soon, never two edits within the gap, the
position every refresh interval while a track plays, nothing at all when nothing moves."""

from __future__ import annotations

from bot.edit_pacer import MIN_GAP, REFRESH_EVERY, EditPacer


def test_a_first_change_goes_out_at_once_and_a_burst_after_it_waits_for_the_gap() -> None:
    pacer = EditPacer()
    pacer.change()
    assert pacer.next_edit(ticking=True) == float("-inf")  # never edited: due already
    pacer.edited(100.0)
    for _ in range(5):
        pacer.change()  # five presses in a row
    assert pacer.next_edit(ticking=True) == 100.0 + MIN_GAP  # one edit for all of them
    pacer.edited(102.0)
    assert pacer.next_edit(ticking=True) == 102.0 + REFRESH_EVERY


def test_without_changes_only_a_playing_track_is_refreshed() -> None:
    pacer = EditPacer()
    pacer.edited(10.0)
    assert pacer.next_edit(ticking=True) == 10.0 + REFRESH_EVERY
    assert pacer.next_edit(ticking=False) is None  # paused or between tracks: nothing moves


def test_the_rules_stay_inside_discords_five_edits_per_five_seconds() -> None:
    pacer = EditPacer()
    now, sent = 0.0, []
    while now < 60.0:  # a change every tenth of a second for a minute
        pacer.change()
        due = pacer.next_edit(ticking=True)
        if due is not None and due <= now:
            pacer.edited(now)
            sent.append(now)
        now = round(now + 0.1, 1)
    assert all(b - a >= MIN_GAP for a, b in zip(sent, sent[1:], strict=False))
    assert max(sum(1 for t in sent if start <= t < start + 5) for start in range(56)) <= 3
