"""A revision's unchanged scenes: rendered again from what made their current clip.

The planner announces which scenes a revision changes (`revision.planned`); every other
scene is rendered again from the `scene.coded` that made its current clip (kept beside
the clip, `artifacts.rendered_name`). The code is the same, so the render cache has the
clip and no Manim process runs; the revision's own ledger then settles every scene and
the video is joined again.
"""

from __future__ import annotations

import msgspec

from shared import artifacts
from shared.artifacts import ArtifactMissing
from shared.errors import PermanentError
from shared.events import RevisionPlanned, SceneCoded, utc_now
from shared.service import StageDeps


def carried_over(previous: SceneCoded, revision: RevisionPlanned) -> SceneCoded:
    """`previous` as the revision's first attempt at the scene: same code, plan and speech."""
    return msgspec.structs.replace(
        previous,
        context=revision.context,
        attempt=revision.context.first_attempt,
        carried_from=previous.attempt,
        scene_count=revision.scene_count,
        replayed=False,
        occurred_at=utc_now(),
    )


async def unchanged_scenes(deps: StageDeps, revision: RevisionPlanned) -> list[SceneCoded]:
    """The `scene.coded` of each scene the revision leaves as it is."""
    scenes = []
    for number in revision.unchanged:
        try:
            data = await deps.artifacts.get_bytes(artifacts.rendered_name(revision.job_id, number))
        except ArtifactMissing as exc:
            raise PermanentError(
                f"scene {number}'s rendered code is no longer stored",
                code="REVISION_UNAVAILABLE",
                stage="rendering",
                suggestion="The job's intermediate files expired or were removed "
                "(STORAGE_CLEANUP); generate the video again.",
            ) from exc
        scenes.append(carried_over(msgspec.json.decode(data, type=SceneCoded), revision))
    return scenes
