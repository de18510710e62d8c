"""A long scene rendered by many renderer replicas at once: slices over the bus.

The replica that took ``scene.coded`` owns the scene. In one of its render slots it runs
the dry pass (:mod:`services.renderer.fastforward`) and decides (:mod:`.slicing`); a long
enough scene becomes ``scene.slice_requested`` work items on the ``renderer-slices``
durable, which any replica (the owner's too) takes like a scene: in a fair slot, in the
jail, killed on cancellation, redelivered when its replica dies. A slice's clip and report
are artifacts (``<slice_ref>.mp4`` then ``.json``; ``.failed.json`` when the code failed),
so the owner needs no reply channel and a restarted owner finds what was already done.
The owner waits without holding a slot, joins the clips by stream copy, checks that
every slice started in the state the previous one ended in, and caches the joined clip
under the scene's own cache key. If the check fails it renders the scene whole.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import msgspec

from services.renderer.combine import join_parts
from services.renderer.engine import RenderEngine
from services.renderer.errors import RenderFailure
from services.renderer.fastforward import (
    SliceReport,
    SliceSpec,
    pack_tex,
    report_from,
    report_json,
)
from services.renderer.outputs import probe_duration
from services.renderer.render import RenderedClip, RenderProcess
from services.renderer.slicing import (
    Range,
    SliceDecision,
    decide,
    mismatch,
    open_ended,
    refusal,
)
from shared import artifacts
from shared.artifacts import ArtifactMissing
from shared.errors import JobGone
from shared.events import RenderError, SceneCoded, SliceRequested
from shared.service import StageDeps

log = logging.getLogger("videogen.renderer")

CLIP, REPORT, FAILED, LAYOUT = ".mp4", ".json", ".failed.json", ".layout.json"
# A dry pass that fails this way may have failed on a placeholder formula (dry_tex.py):
# the whole render tells whether the scene itself fails. Other kinds (policy, timeout,
# resource, cancelled) would fail the whole render the same way, so they fail the attempt.
_RENDER_WHOLE_AFTER = frozenset({"crash", "no_output"})
_POLL_SECONDS = 0.25
_STILL_WANTED_EVERY = 2.0


@dataclass(frozen=True)
class Plan:
    """How the owner renders the scene, and the LaTeX its dry pass compiled (reusable)."""

    decision: SliceDecision
    tex: bytes | None = None
    dry_seconds: float = 0.0


async def plan(
    deps: StageDeps,
    engine: RenderEngine,
    event: SceneCoded,
    code: str,
    workdir: Path,
    on_start: Callable[[RenderProcess], None],
) -> Plan:
    """Whether and how to slice: a dry pass of the scene (unless refused without one)."""
    settings = deps.settings
    refused = refusal(
        code,
        min_seconds=settings.slice_min_seconds,
        max_slices=settings.slice_max,
        renderer=engine.choice(code, event.class_name).renderer,
    )
    if refused is not None:
        return Plan(SliceDecision((), refused))
    try:
        dry = await engine.render(
            code,
            class_name=event.class_name,
            quality=event.context.quality,
            workdir=workdir / "dry",
            on_start=on_start,
            use_cache=False,
            strict=False,  # linted by the caller
            slice_spec=SliceSpec("dry"),
        )
    except RenderFailure as failure:
        if failure.kind not in _RENDER_WHOLE_AFTER:
            raise
        return Plan(SliceDecision((), f"the dry pass failed: {failure.message}"))
    assert dry.report is not None
    decision = decide(
        dry.report.durations, min_seconds=settings.slice_min_seconds, max_slices=settings.slice_max
    )
    tex = await asyncio.to_thread(pack_tex, dry.path)
    return Plan(decision, tex, dry.seconds_rendering)


async def render_in_slices(
    deps: StageDeps,
    engine: RenderEngine,
    event: SceneCoded,
    code: str,
    plan: Plan,
    workdir: Path,
    *,
    layout: bool = False,
) -> RenderedClip | str:
    """Publish the slices, wait for them, join them: the clip, or why it is not exact.

    With ``layout``, the last slice records the layout: its fast-forward replays every
    earlier animation to its exact final state, so its records are the whole scene's.
    """
    started = time.monotonic()
    decision = plan.decision
    quality = event.context.quality
    key = _names_key(engine.key(code, class_name=event.class_name, quality=quality), event)
    name = functools.partial(artifacts.sliced_code_name, event.job_id, event.scene_number, key)
    code_ref = await _put_once(deps, name(), code.encode())
    tex_ref = None if plan.tex is None else await _put_once(deps, name(".tex.zip"), plan.tex)
    ranges = open_ended(decision.ranges)
    last = len(ranges) - 1
    requests = [
        _request(event, code_ref, key, (number, len(ranges)), (start, end), tex_ref)
        for number, (start, end) in enumerate(ranges)
    ]
    if layout:
        requests[last] = msgspec.structs.replace(requests[last], layout=True)
    for request in requests:
        await deps.bus.publish(request)
    await deps.bus.progress(
        event, "rendering", scene=event.scene_number, detail=f"in {len(requests)} slices"
    )
    reports = await _wait(deps, event, requests)
    problem = mismatch(ranges, reports)
    if problem is not None:
        return problem
    records = await _layout_records(deps, requests[-1], workdir) if layout else None
    clips = [
        await deps.artifacts.get_file(r.slice_ref + CLIP, workdir / f"slice-{r.slice_number}.mp4")
        for r in requests
    ]
    joined = await asyncio.to_thread(join_parts, clips, workdir / "joined.mp4")
    await engine.remember(
        code, class_name=event.class_name, quality=quality, clip=joined.path, layout=records
    )
    log.info(
        "scene %d joined from %d slices",
        event.scene_number,
        len(requests),
        extra={
            "fast_forward_seconds": [round(r.fast_forward_seconds, 2) for r in reports],
            "slice_seconds": [round(r.seconds, 2) for r in reports],
            "video_seconds": [
                round(sum(r.durations[start:end]), 2)
                for r, (start, end) in zip(reports, ranges, strict=True)
            ],
            "dry_seconds": round(plan.dry_seconds, 2),
        },
    )
    choice = engine.choice(code, event.class_name)
    return RenderedClip(
        path=joined.path,
        duration_seconds=await asyncio.to_thread(probe_duration, joined.path),
        seconds_rendering=time.monotonic() - started,
        renderer=choice.renderer,
        renderer_reason=choice.reason,
        layout=records,
    )


async def render_slice(
    deps: StageDeps,
    engine: RenderEngine,
    event: SliceRequested,
    workdir: Path,
    on_start: Callable[[RenderProcess], None],
) -> None:
    """Render one slice and store its clip, then its report (or why it failed)."""
    if await _stored(deps, event.slice_ref + REPORT) is not None:
        return  # a redelivery of a slice that was done
    code = (await deps.artifacts.get_bytes(event.code_ref)).decode()
    tex = await deps.artifacts.get_bytes(event.tex_ref) if event.tex_ref else None
    try:
        clip = await engine.render(
            code,
            class_name=event.class_name,
            quality=event.context.quality,
            workdir=workdir,
            on_start=on_start,
            use_cache=False,
            strict=False,  # the owner linted it
            slice_spec=SliceSpec("slice", event.start, event.end),
            tex_cache=tex,
            layout=event.layout,
        )
    except RenderFailure as failure:
        if failure.kind == "cancelled":
            raise JobGone(event.job_id) from failure
        error = render_error(failure)
        await deps.artifacts.put_bytes(event.slice_ref + FAILED, msgspec.json.encode(error))
        return
    assert clip.report is not None
    await deps.artifacts.put_file(event.slice_ref + CLIP, clip.path)
    if clip.layout is not None:
        await deps.artifacts.put_file(event.slice_ref + LAYOUT, clip.layout)
    report = dataclasses.replace(clip.report, seconds=clip.seconds_rendering)
    await deps.artifacts.put_bytes(
        event.slice_ref + REPORT, json.dumps(report_json(report)).encode()
    )


def render_error(failure: RenderFailure) -> RenderError:
    return RenderError(
        kind=failure.kind,
        message=failure.message,
        traceback=failure.traceback,
        error_type=failure.error_type,
        line=failure.line,
        code_excerpt=failure.code_excerpt,
        recoverable=failure.recoverable,
    )


def _names_key(cache_key: str, event: SceneCoded) -> str:
    """What names this scene.coded's slices: the same across its redeliveries (a new owner
    finds the slices already done), new for a replay or another attempt."""
    identity = f"{cache_key}:{event.attempt}:{event.occurred_at.isoformat()}"
    return hashlib.sha256(identity.encode()).hexdigest()


def _request(
    event: SceneCoded,
    code_ref: str,
    key: str,
    position: tuple[int, int],
    animations: Range,
    tex_ref: str | None,
) -> SliceRequested:
    (number, count), (start, end) = position, animations
    return SliceRequested(
        job_id=event.job_id,
        user_id=event.user_id,
        context=event.context,
        scene_number=event.scene_number,
        scene_count=event.scene_count,
        attempt=event.attempt,
        class_name=event.class_name,
        code_ref=code_ref,
        slice_ref=artifacts.slice_name(event.job_id, event.scene_number, key, start, end),
        slice_number=number,
        slice_count=count,
        start=start,
        end=end,
        tex_ref=tex_ref,
    )


async def _wait(
    deps: StageDeps, event: SceneCoded, requests: list[SliceRequested]
) -> list[SliceReport]:
    """Every slice's report, in order; a slice's failure is the scene's."""
    reports: dict[int, SliceReport] = {}
    deadline = time.monotonic() + deps.settings.render_timeout_seconds * 2
    checked = time.monotonic()
    while len(reports) < len(requests):
        for request in requests:
            if request.slice_number in reports:
                continue
            raw = await _stored(deps, request.slice_ref + REPORT)
            if raw is not None:
                reports[request.slice_number] = report_from(json.loads(raw))
                continue
            failed = await _stored(deps, request.slice_ref + FAILED)
            if failed is not None:
                error = msgspec.json.decode(failed, type=RenderError)
                raise RenderFailure(
                    error.kind,
                    error.message,
                    traceback=error.traceback,
                    line=error.line,
                    error_type=error.error_type,
                    code_excerpt=error.code_excerpt,
                )
        if len(reports) == len(requests):
            break
        if time.monotonic() > deadline:
            raise RenderFailure("timeout", "the scene's slices did not finish in time")
        if time.monotonic() - checked > _STILL_WANTED_EVERY:
            checked = time.monotonic()
            view = await deps.jobs.get(event.user_id, event.job_id)
            if view is None or view.is_terminal:
                raise JobGone(event.job_id)
        await asyncio.sleep(_POLL_SECONDS)
    return [reports[number] for number in range(len(requests))]


async def _layout_records(deps: StageDeps, last: SliceRequested, workdir: Path) -> Path | None:
    """The last slice's layout records, fetched beside the joined clip (None if it had none)."""
    try:
        return await deps.artifacts.get_file(last.slice_ref + LAYOUT, workdir / "layout.json")
    except ArtifactMissing:
        return None


async def _put_once(deps: StageDeps, name: str, data: bytes) -> str:
    """Store ``data`` unless an earlier owner of this scene.coded did. Never replace it: a
    replica may be reading it right now, and replacing an object drops the chunks that
    reader waits for (it would wait forever)."""
    if await _stored(deps, name) is None:
        await deps.artifacts.put_bytes(name, data)
    return name


async def _stored(deps: StageDeps, name: str) -> bytes | None:
    try:
        return await deps.artifacts.get_bytes(name)
    except ArtifactMissing:
        return None
