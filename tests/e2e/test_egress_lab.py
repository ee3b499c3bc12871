"""The egress gate attacked for real: off-machine addresses served inside a private network namespace.

Elsewhere addresses off this machine can only be tested at the URL-policy level, with name
resolution stubbed. Inside ``unshare -rmn`` nothing can leave, so there the lab
(``tests/e2e/egress_lab``) serves cloud metadata, Oracle's legacy metadata, a LAN host and internal
loopback ports on real sockets, runs a DNS server that rebinds, and attacks the real bot (default
policy) through ``\\play``: redirects only ffmpeg sees, playlists behind ``.mp3``, DNS rebinding
before and during playback, a redirect port-scan oracle and dripping pages. It runs once per module
(about a minute); each test below checks one behaviour on its JSON summary, which is printed in
full with any failure.

Skipped, with the reason, where user+network+mount namespaces cannot be created or ``ip``
(iproute2) is missing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from audio.extractor import MSG_TIMEOUT
from audio.url_policy import MSG_MEDIA, MSG_NAME_NOT_PUBLIC
from tests.e2e.egress_lab.attack_site import FINAL_HZ, FINAL_SECONDS, TONE_HZ, TONE_SECONDS
from tests.e2e.egress_lab.namespace import ENV_IP, ENV_OUTSIDE, LAB_ADDRESSES, namespace_ids
from tests.e2e.egress_lab.run import SUMMARY_MARK

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

REPO = Path(__file__).resolve().parents[2]
LAB_TIMEOUT = 240.0
MAX_REPLY_LENGTH = 200
# What a member must never read: internals, stack traces, the addresses the attack aimed at.
LEAKY_WORDS = ("Traceback", "Exception", "Errno", "ffmpeg", "FFmpeg", "yt-dlp", "Bad Gateway", "502",
               "127.0.0.1", "localhost", *LAB_ADDRESSES)


def lab_tools() -> tuple[str, str]:
    """(unshare, ip), or skip with the reason the lab cannot run here."""
    if not sys.platform.startswith("linux"):
        pytest.skip("the egress lab needs Linux network namespaces")
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("no `unshare` (util-linux) to create the lab's network namespace")
    ip = shutil.which("ip") or next((p for p in ("/usr/sbin/ip", "/sbin/ip") if os.access(p, os.X_OK)), None)
    if ip is None:
        pytest.skip("no `ip` (iproute2) to configure the lab's loopback addresses")
    for tool in ("mount", "ffmpeg", "ffprobe"):
        if shutil.which(tool) is None:
            pytest.skip(f"no `{tool}` on PATH")
    try:
        probe = subprocess.run([unshare, "-rmn", "--", ip, "link", "set", "lo", "up"],
                               capture_output=True, text=True, timeout=15)
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"`unshare -rmn` failed to run: {exc}")
    if probe.returncode != 0:
        pytest.skip(f"user+network+mount namespaces are not permitted here: {probe.stderr.strip()[:300]}")
    return unshare, ip


@pytest.fixture(scope="module")
def lab() -> Iterator[dict[str, Any]]:
    """Run the lab scenario once in a fresh namespace; its summary, printed whole for any failure."""
    unshare, ip = lab_tools()
    env = dict(os.environ, **{ENV_OUTSIDE: namespace_ids(), ENV_IP: ip})
    try:
        done = subprocess.run(
            [unshare, "-rmn", "--", sys.executable, "-m", "tests.e2e.egress_lab.run"],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=LAB_TIMEOUT,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"the egress lab ran over {LAB_TIMEOUT:.0f} s; its log ends:\n{_tail(exc.stderr)}")
    lines = [line for line in done.stdout.splitlines() if line.startswith(SUMMARY_MARK)]
    if done.returncode != 0 or not lines:
        pytest.fail(f"the egress lab exited {done.returncode} without a summary; its log ends:\n{_tail(done.stderr)}")
    summary: dict[str, Any] = json.loads(lines[-1][len(SUMMARY_MARK) :])
    print(json.dumps(summary, indent=1))  # pytest shows captured output with a failure
    print("--- lab log (tail) ---\n" + _tail(done.stderr))
    yield summary


def _tail(text: str | bytes | None, chars: int = 6000) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return (text or "")[-chars:]


def attacks(summary: dict[str, Any], group: str) -> list[dict[str, Any]]:
    found = [a for a in summary["attacks"] if a["group"].startswith(group)]
    assert found, f"no attacks of group {group!r} ran: {brief(summary)}"
    return found


def brief(summary: dict[str, Any]) -> str:
    """One line per attack: what the member read and which internal listeners were hit."""
    lines = [f"{a['group']} / {a['name']}: replies={a.get('replies')} hits={len(a.get('internal_hits', []))}"
             f"{' ERROR ' + a['error'] if 'error' in a else ''}" for a in summary["attacks"]]
    return "\n".join(lines)


def refused(attack: dict[str, Any]) -> bool:
    """The link was refused at lookup, or its track failed: nothing of it was played to the end."""
    end = attack.get("track_end")
    if end is None:
        return bool(attack["replies"]) and not attack["replies"][0].startswith(("Playing", "Queued"))
    return bool(end["reason"] == "failed")


def test_the_lab_ran_every_attack_to_its_end(lab: dict[str, Any]) -> None:
    assert "crash" not in lab, lab.get("crash")
    assert [a["name"] for a in lab["attacks"] if "error" in a] == [], brief(lab)
    assert {a["group"][0] for a in lab["attacks"]} == {"1", "2", "3", "4", "6"}
    assert lab["settings"]["allow_private_network"] is False, "the lab must attack the default policy"


def test_no_attack_reaches_an_internal_listener(lab: dict[str, Any]) -> None:
    """Metadata, Oracle metadata, the LAN host (two ports) and the internal loopback port saw not even
    a TCP connection, during any attack or after it."""
    leaks = {a["name"]: a["internal_hits"] for a in lab["attacks"] if a["internal_hits"]}
    assert leaks == {}, json.dumps(leaks, indent=1)
    assert lab["internal_hits_total"] == [], json.dumps(lab["internal_hits_total"], indent=1)
    assert lab["secret_heard_seconds"] == 0, "the internal listeners' tone was heard in voice"


def test_every_attack_gets_a_short_clear_reply_and_nothing_internal(lab: dict[str, Any]) -> None:
    for attack in lab["attacks"]:
        assert attack["replies"], f"no reply to {attack['name']}"
        for reply in attack["replies"]:
            assert len(reply) <= MAX_REPLY_LENGTH, (attack["name"], reply)
            assert not [w for w in LEAKY_WORDS if w in reply], (attack["name"], reply)


def test_redirects_only_ffmpeg_sees_are_refused_at_the_gate(lab: dict[str, Any]) -> None:
    """yt-dlp got audio, ffmpeg and ffprobe (found by their Icy-MetaData header) got a 302 inside:
    the redirect was really delivered, the proxy refused the hop, the track failed."""
    for attack in attacks(lab, "1"):
        assert refused(attack), (attack["name"], attack["replies"], attack.get("track_end"))
        answers = [s["answer"] for s in attack["served"]]
        if attack["name"].startswith("plain"):
            assert any(a.startswith("302") for a in answers), (attack["name"], answers)
            continue
        media_redirects = [s for s in attack["served"] if s["client"] == "media" and s["answer"].startswith("302")]
        assert media_redirects, f"{attack['name']}: ffmpeg never got the redirect: {attack['served']}"
        assert any("refused a connection: media" in r for r in attack["proxy_refusals"]), attack["name"]


def test_the_standby_and_the_fresh_seek_ffmpeg_paths_were_attacked(lab: dict[str, Any]) -> None:
    """The queued attack is pre-started from the standby ffmpeg behind a legitimate tone, which
    plays whole; the reconnect attack's recovery restarts ffmpeg fresh with -ss."""
    standby, *rest = attacks(lab, "1")
    assert "standby" in standby["name"]
    assert standby["ffmpeg_spawns"]["standby"] >= 2, standby["ffmpeg_spawns"]  # the tone and the attack
    assert standby["baseline"]["audio_seconds"] >= TONE_SECONDS - 0.3, standby["baseline"]
    assert standby["baseline"]["dominant_hz"] == pytest.approx(TONE_HZ, abs=3), standby["baseline"]
    reconnect = next(a for a in rest if "reconnect" in a["name"])
    assert reconnect["ffmpeg_spawns"]["fresh"] >= 1, reconnect["ffmpeg_spawns"]
    assert any(s["range"] not in ("", "bytes=0-") and s["answer"].startswith("302") for s in reconnect["served"])


def test_playlists_behind_mp3_are_never_followed(lab: dict[str, Any]) -> None:
    """The m3u8/mpd was served (to yt-dlp, and to ffmpeg when it claimed to be audio/mpeg), yet no
    segment, key or variant URL inside it was fetched, and nothing played."""
    for attack in attacks(lab, "2"):
        assert any(s["answer"].startswith("document") for s in attack["served"]), attack["name"]
        assert refused(attack), (attack["name"], attack["replies"])


def test_dns_rebinding_is_refused_at_every_stage(lab: dict[str, Any]) -> None:
    """rebindN.lab answers public N times then metadata, so the flip lands on the bot's Nth lookup
    of the name (link check, yt-dlp, media check, ffprobe, ffmpeg); flip.lab flips while ffmpeg
    streams it and ffmpeg's -reconnect meets the metadata address at the gate. Wherever the
    metadata answer was given, a check refused it (the proxy, or the policy in a lookup or a
    measurement)."""
    group = attacks(lab, "3")
    first = group[0]
    assert [q["answer"] for q in first["dns"] if q["qtype"] == 1][:2] == ["93.184.215.14", "169.254.169.254"]
    for attack in group:
        host = attack["url"].split("/")[2]
        if "169.254.169.254" not in [q["answer"] for q in attack["dns"] if q["qtype"] == 1]:
            continue  # the bot was done with the name before it rebound
        checks = attack["proxy_refusals"] + attack["extractor_failures"]
        refusal = any(f"'{host}' -> 169.254.169.254" in line for line in checks)
        policy = any(MSG_NAME_NOT_PUBLIC in r or MSG_MEDIA in r for r in attack["replies"])
        assert refusal or policy, (attack["name"], attack["replies"], checks)
    flip = next(a for a in group if "mid-stream" in a["name"])
    assert refused(flip), flip["replies"]
    assert any(s["answer"] == "first half, then cut" for s in flip["served"]), flip["served"]
    assert any("media to 'flip.lab':80: 'flip.lab' -> 169.254.169.254" in r for r in flip["proxy_refusals"]), \
        flip["proxy_refusals"]


def test_redirects_to_open_and_closed_ports_read_alike(lab: dict[str, Any]) -> None:
    """An internal port that is open, one that is closed and a closed public port give the same
    reply, so ``\\play`` cannot be used to scan ports."""
    group = attacks(lab, "4")
    for attack in group:
        assert any(s["answer"].startswith(("301", "302", "307")) for s in attack["served"]), attack["name"]
    replies = {a["name"]: tuple(a["replies"]) for a in group}
    assert len(set(replies.values())) == 1, replies


def test_dripping_pages_are_cut_off_and_the_bot_still_plays(lab: dict[str, Any]) -> None:
    """Pages that never finish time out with one reply each, round after round; then a legitimate
    track from the public host is heard whole at its pitch."""
    for attack in attacks(lab, "6"):
        assert attack["replies"] == [MSG_TIMEOUT, MSG_TIMEOUT], (attack["name"], attack["replies"])
        assert {s["path"] for s in attack["served"]} == {"/drip-body.mp3", "/drip-head.mp3"}, attack["served"]
    final = lab["final"]
    assert final.get("reply", "").startswith("Playing"), final
    assert final["audio_seconds"] >= FINAL_SECONDS - 0.3, final
    assert final["dominant_hz"] == pytest.approx(FINAL_HZ, abs=3), final
    assert lab["voice_errors"] == []


def test_the_lab_stays_quick(lab: dict[str, Any]) -> None:
    assert lab["runtime_s"] < 120, lab["runtime_s"]
