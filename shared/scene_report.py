"""Per-scene history of a job, folded from its events: what `/scenes` answers.

Each scene's attempts (model, code artifact, outcome, error, fallback reason) and the
LLM tokens spent on it, so the plan → code → render → fix loop can be debugged from the
recorded events alone. Pure: the gateway reads the events and artifacts and calls this.
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from shared.events import (
    AnyEvent,
    ApiRewrite,
    Beat,
    ModelUsage,
    SceneCoded,
    SceneCritiqued,
    SceneFinding,
    SceneNarrated,
    ScenePlanned,
    SceneRendered,
    SceneRenderFailed,
    UsageRecorded,
)


class Attempt(msgspec.Struct, kw_only=True):
    attempt: int
    model: str
    code_ref: str
    # coded | rendered | failed | flagged (rendered, sent back by the layout check)
    status: str = "coded"
    error: str | None = None
    error_line: int | None = None
    fallback_reason: str | None = None
    # manimgl / old-Manim idioms the coder rewrote in this attempt's code (line, before, after)
    rewrites: list[ApiRewrite] = []
    # what the layout check (source "layout") and the vision model (VISION_MODEL, source
    # "vision") saw wrong in this attempt's rendered clip
    findings: list[SceneFinding] = []
    revision: int = 1  # the job's revision this attempt belongs to
    cached: bool = False  # its clip came from the render cache (no Manim process ran)
    # which Manim renderer drew this attempt's clip, and why (RENDERER=auto decides per scene)
    renderer: str | None = None
    renderer_reason: str | None = None
    slices: int | None = None  # renderers its clip came from (1: rendered whole)
    slicing: str | None = None  # why it was sliced, or why not


class SceneReport(msgspec.Struct, kw_only=True):
    scene_number: int
    title: str = ""
    plan_ref: str | None = None
    status: str = "planned"  # planned | coded | rendered | failed
    model: str | None = None  # the model of the latest attempt
    fallback_reason: str | None = None
    attempts: list[Attempt] = []
    errors: list[str] = []
    usage: list[ModelUsage] = []
    voice: str | None = None
    speech_seconds: float | None = None
    beats: list[Beat] = []
    warnings: list[str] = []


class UsageTotals(msgspec.Struct, kw_only=True):
    """A job's LLM spend: per stage and in total (for the status and metadata bodies)."""

    by_stage: dict[str, list[ModelUsage]] = {}
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0


def scene_reports(events: Iterable[AnyEvent]) -> list[SceneReport]:
    """One report per scene, in scene order, from a job's events (any order, repeats ok)."""
    scenes: dict[int, SceneReport] = {}

    def scene(number: int) -> SceneReport:
        return scenes.setdefault(number, SceneReport(scene_number=number))

    for event in sorted(events, key=_attempt_order):
        match event:
            case ScenePlanned():
                report = scene(event.scene_number)
                report.title, report.plan_ref = event.title, event.plan_ref
            case SceneNarrated():
                report = scene(event.scene_number)
                report.voice, report.beats = event.narration.voice, event.narration.beats
                report.speech_seconds = event.narration.speech_seconds
            case SceneCoded():
                report = scene(event.scene_number)
                if all(a.attempt != event.attempt for a in report.attempts):
                    report.attempts.append(
                        Attempt(
                            attempt=event.attempt,
                            model=event.model,
                            code_ref=event.code_ref,
                            fallback_reason=event.fallback_reason,
                            rewrites=event.rewrites,
                            revision=event.context.revision,
                        )
                    )
            case SceneRenderFailed():
                found = _attempt(scene(event.scene_number), event.attempt)
                if found is not None:
                    flagged = event.error.kind == "layout"
                    found.status = "flagged" if flagged else "failed"
                    found.error, found.error_line = event.error.message, event.error.line
                    found.findings = [*found.findings, *event.error.findings]
            case SceneRendered():
                found = _attempt(scene(event.scene_number), event.attempt) or _carried(
                    scene(event.scene_number), event
                )
                if found is not None:
                    found.status, found.cached = "rendered", event.cached
                    found.renderer, found.renderer_reason = event.renderer, event.renderer_reason
                    found.findings = [*found.findings, *event.findings]
                    found.slices, found.slicing = event.slices, event.slicing or None
                scene(event.scene_number).warnings = list(event.warnings)
            case SceneCritiqued():
                found = _attempt(scene(event.scene_number), event.attempt)
                if found is not None:
                    found.findings = [*found.findings, *event.findings]
            case UsageRecorded() if event.scene is not None:
                report = scene(event.scene)
                report.usage = _add(report.usage, event.usage)
            case _:
                pass  # other events say nothing about a scene's attempts
    for report in scenes.values():
        report.attempts.sort(key=lambda a: a.attempt)
        report.errors = [f"attempt {a.attempt}: {a.error}" for a in report.attempts if a.error]
        if report.attempts:
            latest = report.attempts[-1]
            report.status, report.model = latest.status, latest.model
            report.fallback_reason = latest.fallback_reason
    return [scenes[n] for n in sorted(scenes)]


def fallbacks(events: Iterable[AnyEvent]) -> dict[int, str]:
    """Scenes the built-in model stood in for, and why (the job result lists these)."""
    return {r.scene_number: r.fallback_reason for r in scene_reports(events) if r.fallback_reason}


def usage_totals(events: Iterable[AnyEvent]) -> UsageTotals:
    """Totals from a job's events (each `usage.recorded` counted once)."""
    records = {
        event.dedup_key(): (event.stage, event.usage)
        for event in events
        if isinstance(event, UsageRecorded)
    }
    return total_usage(records.values())


def total_usage(records: Iterable[tuple[str, list[ModelUsage]]]) -> UsageTotals:
    """Totals of (stage, usage) records, per stage and overall."""
    totals = UsageTotals()
    for stage, usages in records:
        totals.by_stage[stage] = _add(totals.by_stage.get(stage, []), usages)
        for usage in usages:
            totals.calls += usage.calls
            totals.prompt_tokens += usage.prompt_tokens
            totals.completion_tokens += usage.completion_tokens
            totals.cost_usd = round(totals.cost_usd + usage.cost_usd, 6)
    return totals


def _attempt_order(event: AnyEvent) -> tuple[int, int]:
    # Codes before outcomes, whatever order the stream interleaved them in.
    rank = 0 if isinstance(event, ScenePlanned | SceneCoded) else 1
    return rank, getattr(event, "attempt", 0) or 0


def _carried(report: SceneReport, event: SceneRendered) -> Attempt | None:
    """The attempt a revision made by rendering an earlier attempt's code again."""
    earlier = None if event.carried_from is None else _attempt(report, event.carried_from)
    if earlier is None:
        return None
    attempt = msgspec.structs.replace(
        earlier, attempt=event.attempt, revision=event.context.revision, findings=[]
    )
    report.attempts.append(attempt)
    return attempt


def _attempt(report: SceneReport, number: int) -> Attempt | None:
    return next((a for a in report.attempts if a.attempt == number), None)


def _add(total: list[ModelUsage], more: list[ModelUsage]) -> list[ModelUsage]:
    merged = {u.model: msgspec.structs.replace(u) for u in total}
    for usage in more:
        current = merged.setdefault(usage.model, ModelUsage(model=usage.model))
        current.calls += usage.calls
        current.prompt_tokens += usage.prompt_tokens
        current.completion_tokens += usage.completion_tokens
        current.cost_usd = round(current.cost_usd + usage.cost_usd, 6)
    return list(merged.values())
