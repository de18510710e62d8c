"""The coder's side of the API rewrites: applied to every draft, remembered per attempt.

Each draft a model writes (first code, re-asks after failed checks, fixes after failed
renders) is rewritten into the installed Manim's API before the checks see it. The
rewrites of the draft that becomes the attempt's code travel on `scene.coded` (so
`/scenes` lists them) and are kept next to the code, so a later fix request for that
attempt can tell the model which of its lines were rewritten.
"""

from __future__ import annotations

import msgspec

from shared import artifacts
from shared.api_rewrites import rewrite_api, rewrites_report
from shared.events import ApiRewrite


class ApiFixes:
    """Rewrites drafts of one attempt; `rewrites` are those of the latest draft."""

    def __init__(self) -> None:
        self.rewrites: list[ApiRewrite] = []

    def __call__(self, code: str) -> str:
        code, self.rewrites = rewrite_api(code)
        return code

    def report(self) -> str:
        """What the model should know about the rewrites of the draft it is asked to fix."""
        return rewrites_report(self.rewrites)


async def store_rewrites(
    store: artifacts.Artifacts, job_id: str, scene: int, attempt: int, rewrites: list[ApiRewrite]
) -> None:
    if rewrites:
        await store.put_bytes(
            artifacts.rewrites_name(job_id, scene, attempt), msgspec.json.encode(rewrites)
        )


async def stored_report(store: artifacts.Artifacts, job_id: str, scene: int, attempt: int) -> str:
    """The rewrites report of an earlier attempt ("" when nothing was rewritten)."""
    try:
        data = await store.get_bytes(artifacts.rewrites_name(job_id, scene, attempt))
    except artifacts.ArtifactMissing:
        return ""
    return rewrites_report(msgspec.json.decode(data, type=list[ApiRewrite]))
