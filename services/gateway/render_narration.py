"""A narrated render-only job's first events: each scene as a plan with the client's words.

The narrator voices `scene.planned` events; a render-only scene has no plan to write code
from, so its plan carries only the narration and the event names the client's code,
which the coder passes on untouched once the scene is spoken.
"""

from __future__ import annotations

import msgspec

from shared import artifacts
from shared.artifacts import Artifacts
from shared.events import JobContext, ScenePlanned
from shared.plans import ScenePlan


async def narrated_scenes(
    store: Artifacts,
    *,
    job_id: str,
    user: str,
    context: JobContext,
    code_ref: str,
    narration: dict[str, str],
) -> list[ScenePlanned]:
    """One `scene.planned` per scene class, in order, its plan stored as an artifact."""
    events = []
    for number, (class_name, text) in enumerate(narration.items(), start=1):
        plan = ScenePlan(
            number=number,
            title=class_name,
            kind="user",
            class_name=class_name,
            storyboard="",
            technical_plan="",
            narration=text,
        )
        plan_ref = await store.put_bytes(
            artifacts.plan_name(job_id, number), msgspec.json.encode(plan)
        )
        events.append(
            ScenePlanned(
                job_id=job_id,
                user_id=user,
                context=context,
                scene_number=number,
                scene_count=len(narration),
                title=class_name,
                plan_ref=plan_ref,
                client_code_ref=code_ref,
                class_name=class_name,
            )
        )
    return events
