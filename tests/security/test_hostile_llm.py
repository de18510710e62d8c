"""Hostile code written by the LLM endpoint for POST /videos/generate, as an attacker who
controls (or prompt-injects) the model would have it.

The stack's OpenAI-compatible endpoint (tests/llm_server.py) answers the outline and plans
normally, then writes a hostile first scene and the same code again for every repair. The
coder's strict policy may refuse it before any render (then the scene falls back to the
built-in model); either way the job must end with nothing achieved — the same checks as
the render-only route (tests/security/arena.py).
"""

from __future__ import annotations

import json

import pytest

from tests.llm_server import ScriptedLLM
from tests.plan_answers import plan_json
from tests.security.arena import Arena, describe, payload_mark
from tests.security.payloads import ALL, Payload, scene_code

pytestmark = pytest.mark.security

TITLES = ("Probe", "Middle", "End")
PLAN = plan_json("Here a circle appears on the screen.")
LEGIT = (
    "```python\nfrom manim import *\n\n\nclass {name}(Scene):\n    def construct(self):\n"
    "        self.play(Create(Circle()), run_time=0.5)\n```"
)
CHOSEN = (
    "read-code_file_data_dir",
    "read-tex_input",
    "proc-ancestor_environ_pathlib",
    "bypass-manim_file_ops_subprocess",
    "daemon-popen_new_session",
    "write-open_alias_outside",
)
PAYLOADS = [p for p in ALL if p.id in CHOSEN]


@pytest.fixture(scope="module", autouse=True)
def planning(llm: ScriptedLLM) -> None:
    llm.on("Task: scene plan", replies=[PLAN])


def _outline(key: str) -> str:
    """Scene titles carry the key: the code prompt names the scene, not the job."""
    return json.dumps(
        {
            "scenes": [
                {"title": f"{title} {key}", "purpose": "Show a circle.", "kind": "statement"}
                for title in TITLES
            ]
        }
    )


@pytest.mark.parametrize("payload", PAYLOADS, ids=[p.id for p in PAYLOADS])
def test_hostile_llm_code_achieves_nothing(
    arena: Arena, llm: ScriptedLLM, payload: Payload
) -> None:
    mark = payload_mark()
    key = mark[::-1]  # in the topic and the code, never the marker itself
    hostile = scene_code(payload, arena.values(mark)).replace(
        "class Probe(Scene)", f"class Scene01Probe{key}(Scene)"
    )
    reply = f"```python\n{hostile}\n```"
    llm.on("Task: outline", key, replies=[_outline(key)])
    for number, title in enumerate(TITLES[1:], start=2):
        llm.on(
            "Task: scene code",
            key,
            f"scene number {number} of",
            replies=[LEGIT.format(name=f"Scene{number:02d}{title}{key}")],
        )
    llm.on("Task: scene code", key, "scene number 1 of", replies=[reply])
    llm.on("Task: repair code", key, replies=[reply])

    body = {
        "configuration": {
            "topic": f"Probe {key}",
            "context": "Circles are round.",
            "quality": "low",
            "enable_thumbnails": False,
        }
    }
    response = arena.api.post("/api/v1/videos/generate", json=body, headers=arena.mallory)
    assert response.status_code == 201, response.text
    outcome = arena.follow(response.json()["job_id"], arena.mallory, [response.text])
    assert llm.requests("Task: scene code", key, "scene number 1 of"), outcome.status
    findings = arena.findings(mark, outcome)
    print(describe(payload, outcome))  # shown with -rA: how each attack ended
    assert findings == [], f"{payload.id} via the LLM ({outcome.status.get('status')}): {findings}"
