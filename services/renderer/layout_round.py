"""What the layout check's findings do to a rendered scene (LAYOUT_CHECK): the one place
that decides it.

- ``off``: no boxes are recorded (the hook is not installed).
- ``warn`` (and, under ``repair``, the built-in model's scenes and a client's own code,
  which nobody can usefully repair): the findings ride on ``scene.rendered``.
- ``repair``: a scene an LLM wrote that has findings gets exactly one repair round. Its
  clip is kept aside and the findings go to the coder as a ``scene.render_failed`` of
  kind ``layout`` — the path every repair takes, so the coder needs no second route and
  the ledger, replay and ``/scenes`` already understand it. The coder answers with an
  attempt marked ``layout_retry_of``; whatever that attempt gives, the renderer settles
  the scene: the repaired clip if it has fewer findings, else the kept one (also when the
  repair does not render at all). No second round is ever asked for.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import msgspec

from services.renderer.errors import code_excerpt
from services.renderer.layout import Context, findings_of
from shared import artifacts
from shared.events import RenderError, SceneCoded, SceneFinding, SceneRendered, SceneRenderFailed
from shared.service import StageDeps

log = logging.getLogger("videogen.renderer.layout")


class KeptClip(msgspec.Struct, kw_only=True):
    """The clip sent back for a layout repair, as the renderer stored it."""

    attempt: int
    duration_seconds: float
    render_seconds: float
    warnings: list[str] = []
    findings: list[SceneFinding] = []
    renderer: str = "cairo"
    renderer_reason: str = ""


@dataclass(frozen=True)
class Outcome:
    """A scene's rendered clip (already stored as the scene's clip artifact)."""

    clip: Path
    clip_ref: str
    duration_seconds: float
    render_seconds: float
    warnings: list[str]
    findings: list[SceneFinding]
    renderer: str = "cairo"  # which Manim renderer drew it, and why
    renderer_reason: str = ""
    cached: bool = False  # served from the render cache
    slices: int = 1  # renderers the clip came from (1: whole)
    slicing: str = ""  # why it was sliced, or why not


def layout_action(setting: str, event: SceneCoded) -> str:
    """``repair``, ``warn`` or ``off`` for this attempt (see the module docstring)."""
    if setting == "off":
        return "off"
    repairable = event.repairable and event.model != "builtin" and event.layout_retry_of is None
    return "repair" if setting == "repair" and repairable else "warn"


def scene_findings(records: Path | None, code: str, event: SceneCoded) -> list[SceneFinding]:
    """The layout findings of a render's records (``code``: the scene's own code)."""
    if records is None:
        return []
    context = Context(
        code_lines=len(code.splitlines()), last_scene=event.scene_number >= event.scene_count
    )
    try:
        return findings_of(records, context)
    except Exception:  # a bug in the check must never cost a rendered scene
        log.exception("scene %d: the layout check failed; no findings", event.scene_number)
        return []


async def settle(
    deps: StageDeps, event: SceneCoded, outcome: Outcome, *, action: str, code: str
) -> SceneRendered | SceneRenderFailed:
    """The event that announces this render: rendered, or sent back for a layout repair."""
    if event.layout_retry_of is not None:
        kept = await _kept(deps, event)
        if kept is not None and len(outcome.findings) >= len(kept.findings):
            return await _restore(deps, event, kept, found=len(outcome.findings))
        return rendered(event, outcome)
    if action == "repair" and outcome.findings:
        await _keep(deps, event, outcome)
        return _send_back(event, outcome.findings, code)
    return rendered(event, outcome)


async def kept_instead(deps: StageDeps, event: SceneCoded) -> SceneRendered | None:
    """The kept clip's announcement when a layout repair failed to render (else None)."""
    if event.layout_retry_of is None:
        return None
    kept = await _kept(deps, event)
    return None if kept is None else await _restore(deps, event, kept, found=None)


def rendered(event: SceneCoded, outcome: Outcome) -> SceneRendered:
    return SceneRendered(
        job_id=event.job_id,
        user_id=event.user_id,
        context=event.context,
        scene_number=event.scene_number,
        scene_count=event.scene_count,
        attempt=event.attempt,
        clip_ref=outcome.clip_ref,
        duration_seconds=outcome.duration_seconds,
        render_seconds=outcome.render_seconds,
        warnings=outcome.warnings,
        findings=outcome.findings,
        renderer=outcome.renderer,
        renderer_reason=outcome.renderer_reason,
        cached=outcome.cached,
        carried_from=event.carried_from,
        slices=outcome.slices,
        slicing=outcome.slicing,
    )


async def _keep(deps: StageDeps, event: SceneCoded, outcome: Outcome) -> None:
    await deps.artifacts.put_file(
        artifacts.kept_clip_name(event.job_id, event.scene_number), outcome.clip
    )
    kept = KeptClip(
        attempt=event.attempt,
        duration_seconds=outcome.duration_seconds,
        render_seconds=outcome.render_seconds,
        warnings=outcome.warnings,
        findings=outcome.findings,
        renderer=outcome.renderer,
        renderer_reason=outcome.renderer_reason,
    )
    await deps.artifacts.put_bytes(
        artifacts.kept_layout_name(event.job_id, event.scene_number), msgspec.json.encode(kept)
    )


async def _kept(deps: StageDeps, event: SceneCoded) -> KeptClip | None:
    try:
        data = await deps.artifacts.get_bytes(
            artifacts.kept_layout_name(event.job_id, event.scene_number)
        )
        kept = msgspec.json.decode(data, type=KeptClip)
    except (artifacts.ArtifactMissing, msgspec.DecodeError, msgspec.ValidationError):
        log.warning("scene %d: no kept clip for its layout repair", event.scene_number)
        return None
    return kept if kept.attempt == event.layout_retry_of else None


async def _restore(
    deps: StageDeps, event: SceneCoded, kept: KeptClip, *, found: int | None
) -> SceneRendered:
    """Make the kept clip the scene's clip again and announce it under this attempt."""
    name = artifacts.clip_name(event.job_id, event.scene_number)
    data = await deps.artifacts.get_bytes(
        artifacts.kept_clip_name(event.job_id, event.scene_number)
    )
    ref = await deps.artifacts.put_bytes(name, data)
    why = "did not render" if found is None else f"has {found} layout finding(s)"
    note = (
        f"layout repair (attempt {event.attempt}) {why}; attempt {kept.attempt}'s clip "
        f"({len(kept.findings)} finding(s)) is kept"
    )
    log.info("scene %d: %s", event.scene_number, note)
    return SceneRendered(
        job_id=event.job_id,
        user_id=event.user_id,
        context=event.context,
        scene_number=event.scene_number,
        scene_count=event.scene_count,
        attempt=event.attempt,
        clip_ref=ref,
        duration_seconds=kept.duration_seconds,
        render_seconds=kept.render_seconds,
        warnings=[*kept.warnings, note],
        findings=kept.findings,
        renderer=kept.renderer,
        renderer_reason=kept.renderer_reason,
    )


def _send_back(event: SceneCoded, findings: list[SceneFinding], code: str) -> SceneRenderFailed:
    first = findings[0]
    line = first.line
    return failed_render(
        event,
        RenderError(
            kind="layout",
            message=f"LayoutCheck: {len(findings)} layout problem(s); first: {first.message}",
            error_type="LayoutCheck",
            line=line,
            code_excerpt=code_excerpt(code, line) if line is not None else "",
            recoverable=True,
            findings=findings,
        ),
    )


def failed_render(event: SceneCoded, error: RenderError) -> SceneRenderFailed:
    """The announcement that `event`'s attempt did not give a usable clip (the coder repairs)."""
    return SceneRenderFailed(
        job_id=event.job_id,
        user_id=event.user_id,
        context=event.context,
        scene_number=event.scene_number,
        scene_count=event.scene_count,
        attempt=event.attempt,
        class_name=event.class_name,
        code_ref=event.code_ref,
        plan_ref=event.plan_ref,
        error=error,
    )
