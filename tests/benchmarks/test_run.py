"""benchmarks.run keeps one shared document: each suite rewrites only its own section."""

from __future__ import annotations

from benchmarks import Section
from benchmarks.run import compose, load_suite, suite_names

INTRO = "# Benchmarks\n\nHand-written introduction.\n"


def test_new_section_is_appended_after_the_intro() -> None:
    doc = compose(INTRO, "queue", 10, Section("Queue", "queue body v1"))
    assert doc.startswith(INTRO)
    assert "## Queue\n\nqueue body v1\n" in doc


def test_rerun_replaces_only_that_section() -> None:
    doc = compose(INTRO, "queue", 10, Section("Queue", "queue body v1"))
    doc = compose(doc, "soak", 30, Section("Soak", "soak body"))
    doc = compose(doc, "queue", 10, Section("Queue", "queue body v2"))
    assert "queue body v1" not in doc
    assert doc.count("queue body v2") == 1
    assert "soak body" in doc and doc.startswith(INTRO)
    assert doc.index("queue body v2") < doc.index("soak body")


def test_new_section_goes_before_sections_with_a_higher_order() -> None:
    doc = compose(INTRO, "queue", 10, Section("Queue", "queue body"))
    doc = compose(doc, "soak", 30, Section("Soak", "soak body"))
    doc = compose(doc, "audio_path", 20, Section("Audio path", "audio body"))
    assert doc.index("queue body") < doc.index("audio body") < doc.index("soak body")


def test_markdown_with_regex_specials_survives() -> None:
    body = r"a \1 \g<0> $ table | x |"
    doc = compose(INTRO, "queue", 10, Section("Queue", "old"))
    assert body in compose(doc, "queue", 10, Section("Queue", body))


def test_queue_suite_is_discovered() -> None:
    assert "queue" in suite_names()
    suite = load_suite("queue")
    assert suite.order == 10
