"""The projector's fold: stage order, percentages, idempotency, order tolerance, terminals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.gateway.projection import apply, cancel, processing_seconds, stages_completed
from shared.events import (
    AnyEvent,
    JobCancelled,
    JobConfig,
    JobContext,
    JobError,
    JobFailed,
    ProgressReported,
    RenderError,
    SceneCoded,
    ScenePlanned,
    SceneRendered,
    SceneRenderFailed,
    StoredVideo,
    VideoStored,
)
from shared.jobview import JobView
from shared.stages import BY_NAME, percentage_within

JOB, USER = "6f1c2d2e-8d44-4f0e-9a55-0d6a4c1f7b10", "alice"
START = datetime(2026, 1, 1, tzinfo=UTC)
CONTEXT = JobContext(quality="low", scene_model="builtin")


def new_view() -> JobView:
    return JobView(
        job_id=JOB, user_id=USER, config=JobConfig(topic="t", context="c"), created_at=START
    )


def at(seconds: float) -> datetime:
    return START + timedelta(seconds=seconds)


def progress(
    stage: str, seconds: float, *, scene: int | None = None, percentage: float | None = None
) -> ProgressReported:
    return ProgressReported(
        job_id=JOB,
        user_id=USER,
        occurred_at=at(seconds),
        stage=stage,
        scene=scene,
        percentage=BY_NAME[stage].percentage if percentage is None else percentage,
        description=BY_NAME[stage].description,
    )


def planned(scene: int, count: int = 2) -> ScenePlanned:
    return ScenePlanned(
        job_id=JOB,
        user_id=USER,
        context=CONTEXT,
        scene_number=scene,
        scene_count=count,
        title=f"Scene {scene}",
        plan_ref="p",
    )


def coded(scene: int, attempt: int = 1, count: int = 2) -> SceneCoded:
    return SceneCoded(
        job_id=JOB,
        user_id=USER,
        context=CONTEXT,
        scene_number=scene,
        scene_count=count,
        attempt=attempt,
        class_name="S",
        code_ref="c",
        plan_ref="p",
        model="builtin",
    )


def rendered(scene: int, attempt: int = 1, count: int = 2) -> SceneRendered:
    return SceneRendered(
        job_id=JOB,
        user_id=USER,
        context=CONTEXT,
        scene_number=scene,
        scene_count=count,
        attempt=attempt,
        clip_ref="clip",
        duration_seconds=7.5,
        render_seconds=3.0,
    )


def render_failed(scene: int, attempt: int = 1) -> SceneRenderFailed:
    return SceneRenderFailed(
        job_id=JOB,
        user_id=USER,
        context=CONTEXT,
        scene_number=scene,
        scene_count=2,
        attempt=attempt,
        class_name="S",
        code_ref="c",
        plan_ref="p",
        error=RenderError(kind="crash", message="NameError: name 'Foo' is not defined"),
    )


def stored(seconds: float) -> VideoStored:
    video = StoredVideo(
        storage_mode="local_only",
        video_key="videos/alice/x/video.mp4",
        duration_seconds=15.0,
        width=854,
        height=480,
        fps=15.0,
        frame_count=225,
        file_size=1000,
        sha256="0" * 64,
    )
    return VideoStored(job_id=JOB, user_id=USER, occurred_at=at(seconds), video=video)


def fold(view: JobView, events: list[AnyEvent]) -> JobView:
    for event in events:
        view = apply(view, event) or view
    return view


def happy_path() -> list[AnyEvent]:
    return [
        progress("initializing", 1),
        progress("planning", 2),
        progress("scenario_creation", 3),
        planned(1),
        planned(2),
        progress("code_generation", 4, scene=1),
        coded(1),
        progress("code_generation", 5, scene=2),
        coded(2),
        progress("rendering", 6, scene=1),
        rendered(1),
        progress("rendering", 7, scene=2),
        rendered(2),
        progress("combining", 8),
        progress("storage", 9),
        stored(10),
    ]


def test_apply_happy_path_walks_the_stages_in_order() -> None:
    seen: list[tuple[str, float]] = []
    view = new_view()
    for event in happy_path():
        view = apply(view, event) or view
        assert view.current_stage not in stages_completed(view)
        if not seen or seen[-1][0] != view.current_stage:
            seen.append((view.current_stage, BY_NAME[view.current_stage].percentage))
    assert seen == [
        ("initializing", 5),
        ("planning", 15),
        ("scenario_creation", 30),
        ("code_generation", 50),
        ("rendering", 80),
        ("combining", 90),
        ("storage", 95),
        ("completed", 100),
    ]
    assert view.status == "completed" and view.percentage == 100
    assert stages_completed(view) == [
        "initializing",
        "planning",
        "scenario_creation",
        "code_generation",
        "rendering",
        "combining",
        "storage",
    ]
    assert all(record.finished_at is not None for record in view.stages)
    assert view.started_at == at(1) and view.completed_at == at(10)
    assert processing_seconds(view, now=at(99)) == 9.0
    assert view.video is not None and view.model == "builtin"
    assert [(s.status, s.attempts, s.duration_seconds) for s in view.scenes.values()] == [
        ("rendered", 1, 7.5),
        ("rendered", 1, 7.5),
    ]


def test_apply_twice_changes_nothing() -> None:
    view = new_view()
    for event in happy_path():
        once = apply(view, event) or view
        assert apply(once, event) is None, event.type
        view = once


def test_apply_progress_never_goes_backwards_but_late_stages_fill_the_history() -> None:
    view = fold(
        new_view(),
        [
            progress("initializing", 1),
            progress("rendering", 5),
            progress("planning", 2),
            progress("code_generation", 4),
        ],
    )
    assert view.current_stage == "rendering" and view.percentage == 80
    assert [record.stage for record in view.stages] == [
        "initializing",
        "planning",
        "code_generation",
        "rendering",
    ]
    assert stages_completed(view) == ["initializing", "planning", "code_generation"]
    starts = [record.started_at for record in view.stages]
    assert starts == sorted(starts)
    for record, following in zip(view.stages, view.stages[1:], strict=False):
        assert record.finished_at == following.started_at  # each ends as the next begins


def test_a_completed_job_takes_a_late_stage_it_has_no_record_of() -> None:
    done = fold(
        new_view(),
        [progress("initializing", 1), progress("planning", 2), progress("storage", 4), stored(5)],
    )
    late = apply(done, progress("combining", 3))
    assert late is not None and late.status == "completed" and late.percentage == 100
    assert [r.stage for r in late.stages] == [
        "initializing",
        "planning",
        "combining",
        "storage",
        "completed",
    ]
    assert apply(late, progress("combining", 3)) is None  # and only once


def test_apply_ignores_everything_after_a_terminal_state() -> None:
    view = fold(new_view(), [progress("initializing", 1), JobCancelled(job_id=JOB, user_id=USER)])
    assert view.status == "cancelled"
    for late in (progress("planning", 2), stored(3), planned(1)):
        assert apply(view, late) is None
    assert cancel(view, at=at(9)) is None


def test_apply_failed_job_keeps_its_error_and_closes_the_stage() -> None:
    error = JobError(code="RENDER_FAILED", stage="rendering", message="gave up", attempts=3)
    view = fold(
        new_view(),
        [
            progress("initializing", 1),
            progress("rendering", 2),
            JobFailed(job_id=JOB, user_id=USER, occurred_at=at(3), error=error),
        ],
    )
    assert view.status == "failed" and view.error == error and view.completed_at == at(3)
    assert view.current_stage == "rendering"
    assert stages_completed(view) == ["initializing"]
    assert view.stages[-1].finished_at == at(3)


def test_apply_refines_percentage_by_scenes_within_a_stage() -> None:
    view = fold(new_view(), [progress("code_generation", 1), planned(1, 4), coded(1, count=4)])
    assert view.percentage == percentage_within("code_generation", 1 / 4)
    view = fold(view, [coded(2, count=4), progress("rendering", 3), rendered(1, count=4)])
    assert view.percentage == percentage_within("rendering", 1 / 4)
    view = fold(view, [coded(3, count=4), rendered(2, count=4)])  # late code: no step back
    assert view.percentage == percentage_within("rendering", 2 / 4)


def test_apply_render_failure_then_repair() -> None:
    view = fold(
        new_view(), [planned(1), coded(1), progress("rendering", 2, scene=1), render_failed(1)]
    )
    scene = view.scenes[1]
    assert (scene.status, scene.attempts) == ("failed", 1)
    assert scene.last_error is not None and scene.last_error.startswith("NameError")
    view = fold(view, [progress("code_generation", 3, scene=1)])
    assert view.scenes[1].status == "failed"  # until the repaired code arrives
    view = fold(view, [coded(1, attempt=2), coded(1, attempt=1), render_failed(1, attempt=1)])
    assert (view.scenes[1].status, view.scenes[1].attempts) == ("coded", 2)
    view = fold(view, [rendered(1, attempt=2), progress("rendering", 4, scene=1)])
    assert (view.scenes[1].status, view.scenes[1].attempts) == ("rendered", 2)
