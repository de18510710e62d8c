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

from tests.security.arena import Arena, describe, run_payload
from tests.security.evidence import Canaries, canary, ocr_video
from tests.security.payloads import ALL, PRELUDE, Payload

pytestmark = pytest.mark.security


def test_the_frame_channel_reads_a_leak_back(arena: Arena) -> None:
    """Control: a scene that shows a planted value through the payloads' `show` is caught,
    so a payload that really leaks would fail its test."""
    code = PRELUDE.replace('"@@MARK_REVERSED@@"', '"X"')
    for name, value in arena.values("X").items():
        code = code.replace(f"@@{name}@@", value)
    control = Canaries({"control": canary("sk-")})  # not planted: the store stays clean
    shown = control.values["control"]
    code += f"\n\nclass Probe(Scene):\n    def construct(self):\n        show(self, {shown!r})\n"
    outcome = arena.render(code, arena.mallory)
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
