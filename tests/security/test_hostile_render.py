"""Hostile scene code through POST /api/v1/videos/render of a real stack, as an attacker.

Each payload (tests/security/payloads.py) runs as user mallory against a stack with canary
secrets in every service's environment and canary files outside the render. Whatever layer
stops it — the gateway's policy, the jail, a limit — the test asserts only on what the
attacker achieved: no canary in any API body, event, log, the NATS store or the video's
frames (OCR); no file outside the work dir; no process left; the victim's next render
identical to a clean one and no job made in the victim's name.
"""

from __future__ import annotations

import pytest

from tests.security.arena import Arena, describe, payload_mark, run_payload
from tests.security.evidence import Canaries, canary, ocr_video
from tests.security.payloads import ALL, Payload, scene_code

pytestmark = pytest.mark.security


def test_the_frame_channel_reads_a_leak_back(arena: Arena) -> None:
    """Control: a scene that shows a value through the payloads' `show` is caught, so a
    payload that really leaks would fail its test."""
    control = Canaries({"control": canary("sk-")})  # not planted: the store stays clean
    shown = Payload(
        "control",
        "show",
        "\n\nclass Probe(Scene):\n    def construct(self):\n"
        f"        show(self, {control.values['control']!r})\n",
    )
    outcome = arena.render(scene_code(shown, arena.values(payload_mark())), arena.mallory)
    assert outcome.status["status"] == "completed", outcome.status
    assert outcome.video is not None
    assert control.found_in(ocr_video(outcome.video)) == ["control"]


@pytest.mark.parametrize("payload", ALL, ids=[p.id for p in ALL])
def test_hostile_render_achieves_nothing(arena: Arena, payload: Payload) -> None:
    outcome, findings = run_payload(arena, payload)
    print(describe(payload, outcome))  # shown with -rA: how each attack ended
    assert findings == [], (
        f"{payload.id} ({outcome.status.get('status')}, "
        f"{(outcome.status.get('error') or {}).get('message', '')[:300]}): {findings}"
    )


CONCURRENT = [
    "daemon-kill_warm_pool_leave_orphan",
    "read-other_renders_scene_files",
    "proc-inherited_descriptors",
]


@pytest.mark.parametrize("attack_id", CONCURRENT)
def test_a_concurrent_render_of_another_user_is_out_of_reach(arena: Arena, attack_id: str) -> None:
    """Mallory attacks while the victim's render runs in the other slot (kills what she can
    reach of the pool, looks for the victim's scene file, writes to inherited pipes): the
    victim's render still completes, frame for frame, and nothing leaks."""
    [attack] = [p for p in ALL if p.id == attack_id]
    victim = arena.submit_victim(pause_seconds=4)
    outcome, findings = run_payload(arena, attack)
    print(describe(attack, outcome))
    result = arena.follow(victim, arena.victim, [])
    assert result.status["status"] == "completed", result.status.get("error")
    assert arena.same_as_reference(result)
    assert findings == []
