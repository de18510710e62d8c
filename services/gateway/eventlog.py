"""A job's log: its recorded events (`shared.history`) as lines people read."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from shared.events import (
    AnyEvent,
    JobCancelled,
    JobFailed,
    JobRequested,
    ProgressReported,
    RevisionPlanned,
    RevisionRequested,
    SceneAbandoned,
    SceneCoded,
    SceneNarrated,
    ScenePlanned,
    SceneRendered,
    SceneRenderFailed,
    SliceRequested,
    UsageRecorded,
    VideoCombined,
    VideoStored,
)

LEVELS = ("debug", "info", "warning", "error")


@dataclass(frozen=True)
class LogLine:
    timestamp: datetime
    level: str
    stage: str
    message: str


def log_lines(events: Iterable[AnyEvent], *, min_level: str | None = None) -> list[LogLine]:
    """Lines people read, at `min_level` or more severe."""
    floor = LEVELS.index(min_level) if min_level else 0
    lines = (_line(event) for event in events)
    return [line for line in lines if LEVELS.index(line.level) >= floor]


def _line(event: AnyEvent) -> LogLine:
    level, stage, message = _describe(event)
    return LogLine(timestamp=event.occurred_at, level=level, stage=stage, message=message)


def _describe(event: AnyEvent) -> tuple[str, str, str]:
    match event:
        case RevisionRequested():
            where = "any scene" if event.scene is None else f"scene {event.scene}"
            return (
                "info",
                "planning",
                f"Revision {event.context.revision} requested ({where}): {event.instruction}",
            )
        case RevisionPlanned():
            return (
                "info",
                "planning",
                f"Revision {event.context.revision} changes scenes "
                f"{', '.join(map(str, event.scenes))}: {event.reason}",
            )
        case JobRequested():
            return (
                "info",
                "queued",
                (
                    f"Job requested: {event.config.topic!r} "
                    f"({event.context.quality} quality, model {event.context.scene_model})"
                ),
            )
        case ProgressReported():
            text = event.description
            if event.scene is not None:
                text += f" (scene {event.scene})"
            if event.detail:
                text += f": {event.detail}"
            return "info", event.stage, text
        case ScenePlanned():
            return (
                "info",
                "scenario_creation",
                (f"Scene {event.scene_number} of {event.scene_count} planned: {event.title}"),
            )
        case SceneNarrated():
            narration = event.narration
            spoken = (
                f"Scene {event.scene_number} voiced by {narration.voice}: "
                f"{len(narration.beats)} beats, {narration.speech_seconds:.1f} s"
            )
            if event.fallback_reason:
                return (
                    "warning",
                    "scenario_creation",
                    (f"{spoken}; the configured voice failed: {event.fallback_reason}"),
                )
            return "info", "scenario_creation", spoken
        case SceneCoded() if event.fallback_reason:
            return (
                "warning",
                "code_generation",
                (
                    f"Scene {event.scene_number} falls back to the built-in model "
                    f"(attempt {event.attempt}): {event.fallback_reason}"
                ),
            )
        case SceneCoded():
            return (
                "info",
                "code_generation",
                (f"Scene {event.scene_number} coded (attempt {event.attempt}, {event.model})"),
            )
        case UsageRecorded():
            calls = sum(usage.calls for usage in event.usage)
            tokens = sum(usage.prompt_tokens + usage.completion_tokens for usage in event.usage)
            cost = sum(usage.cost_usd for usage in event.usage)
            return (
                "debug",
                event.stage,
                (
                    f"LLM usage: {calls} call(s), {tokens} tokens, ${cost:.4f}"
                    + (f" (scene {event.scene})" if event.scene is not None else "")
                ),
            )
        case SceneRendered():
            return (
                "warning" if event.warnings or event.findings else "info",
                "rendering",
                (
                    f"Scene {event.scene_number} rendered ({event.duration_seconds:.1f} s of video "
                    f"in {event.render_seconds:.1f} s, {event.renderer}"
                    + (f", {event.slices} slices" if event.slices > 1 else "")
                    + ")"
                    + "".join(f"; {warning}" for warning in event.warnings)
                    + "".join(f"; layout: {finding.message}" for finding in event.findings)
                ),
            )
        case SceneRenderFailed() if event.error.kind == "layout":
            return (
                "warning",
                "rendering",
                (
                    f"Scene {event.scene_number} rendered with layout problems (attempt "
                    f"{event.attempt}), sent back for one repair: {event.error.message}"
                ),
            )
        case SliceRequested():
            return (
                "debug",
                "rendering",
                (
                    f"Scene {event.scene_number}: slice {event.slice_number + 1} of "
                    f"{event.slice_count} (animations {event.start}-"
                    f"{'end' if event.end is None else event.end - 1}) requested"
                ),
            )
        case SceneRenderFailed():
            return (
                "error",
                "rendering",
                (
                    f"Scene {event.scene_number} failed to render (attempt {event.attempt}): "
                    f"{event.error.message}"
                ),
            )
        case SceneAbandoned():
            return (
                "warning",
                "rendering",
                (
                    f"Scene {event.scene_number} left out after attempt {event.attempt}: "
                    f"{event.reason}"
                ),
            )
        case VideoCombined():
            return "info", "combining", f"Scenes combined ({event.duration_seconds:.1f} s)"
        case VideoStored():
            megabytes = event.video.file_size / 1_000_000
            return (
                "info",
                "storage",
                (f"Video stored ({event.video.duration_seconds:.1f} s, {megabytes:.1f} MB)"),
            )
        case JobFailed():
            return (
                "error",
                event.error.stage,
                (f"Job failed ({event.error.code}): {event.error.message}"),
            )
        case JobCancelled():
            return "info", "cancelled", f"Job cancelled: {event.reason}"
    raise TypeError(f"no log line for {type(event).__name__}")
