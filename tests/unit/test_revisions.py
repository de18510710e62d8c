"""Revisions' domain logic as plain functions: which scenes an instruction touches, the
built-in revised plan, the gateway's acceptance and view, the projection of a revision's
events, message ids, names and keys of a revision, and the scene report's carried attempts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from services.gateway.errors import ApiError
from services.gateway.projection import apply, cancel
from services.gateway.revisions import (
    check_revisable,
    opened,
    revision_context,
    revision_request,
    withdrawn,
)
from services.gateway.routes_videos import finished_video
from services.planner.revision import revised_plan, touched_by_rule
from services.renderer.ledger import ledger_key
from services.renderer.revision import carried_over
from shared import artifacts
from shared.events import (
    JobConfig,
    JobContext,
    JobError,
    JobFailed,
    JobRequested,
    ModelUsage,
    ProgressReported,
    RevisionPlanned,
    SceneCoded,
    ScenePlanned,
    SceneRendered,
    StoredVideo,
    UsageRecorded,
    VideoStored,
    revision_of,
)
from shared.history import Recorded
from shared.jobview import JobView, SceneRecord
from shared.plans import Outline, PlanBeat, SceneOutline, ScenePlan
from shared.replay import replay_of
from shared.scene_report import scene_reports
from shared.stages import BY_NAME
from shared.videostore import revision_file

JOB, USER = "6f1c2d2e-8d44-4f0e-9a55-0d6a4c1f7b10", "alice"
START = datetime(2026, 1, 1, tzinfo=UTC)
CONTEXT = JobContext(quality="low", scene_model="builtin")
TITLES = ["Welcome", "Similar triangles", "Proportional sides", "Summary"]
OUTLINE = Outline(
    topic="t",
    scenes=[SceneOutline(number=n, title=t, purpose="") for n, t in enumerate(TITLES, 1)],
)


def at(seconds: float) -> datetime:
    return START + timedelta(seconds=seconds)


def video(key: str) -> StoredVideo:
    return StoredVideo(
        storage_mode="local_only",
        video_key=key,
        duration_seconds=10,
        width=854,
        height=480,
        fps=15,
        frame_count=150,
        file_size=1,
        sha256="0",
    )


def completed_view() -> JobView:
    return JobView(
        job_id=JOB,
        user_id=USER,
        config=JobConfig(topic="t", context="c"),
        status="completed",
        current_stage="completed",
        percentage=100.0,
        created_at=START,
        completed_at=at(60),
        video=video("videos/alice/job/video.mp4"),
        scenes={
            n: SceneRecord(scene_number=n, status="rendered", attempts=1) for n in (1, 2, 3, 4)
        },
    )


def coded(scene: int, attempt: int, context: JobContext = CONTEXT) -> SceneCoded:
    return SceneCoded(
        job_id=JOB,
        user_id=USER,
        context=context,
        scene_number=scene,
        scene_count=4,
        attempt=attempt,
        class_name=f"Scene{scene:02d}",
        code_ref=f"{JOB}/scenes/{scene:02d}/code-{attempt}.py",
        plan_ref=f"{JOB}/scenes/{scene:02d}/plan.json",
        model="builtin",
    )


def requested() -> JobRequested:
    return JobRequested(
        job_id=JOB, user_id=USER, config=JobConfig(topic="t", context="c"), context=CONTEXT
    )


def revising(view: JobView, *, scene: int | None = 3) -> tuple[JobView, JobContext]:
    context = revision_context([requested(), coded(1, 1), coded(3, 2)], revision=2)
    request = revision_request(
        view, context, scene_count=4, scene=scene, instruction="make it blue", now=at(100)
    )
    updated = opened(view, request)
    assert updated is not None
    return updated, context


# --- which scenes, and the built-in plan ---------------------------------------------------


@pytest.mark.parametrize(
    ("instruction", "scenes"),
    [
        ("In scene 3, use bigger letters", [3]),
        ("scenes 2 and scene 4 need colour", [2, 4]),
        ("Make the third scene slower", [3]),
        ("the last scene should thank the viewer", [4]),
        ("scene 9 and scene 2", [2]),  # scenes the job lacks are ignored
        ("Label the proportional sides in red", [3]),  # a title word
        ("make everything brighter", [1, 2, 3, 4]),  # nothing named: every scene
    ],
)
def test_the_built_in_rule_picks_the_scenes_an_instruction_names(instruction, scenes):
    chosen, reason = touched_by_rule(OUTLINE, instruction)
    assert chosen == scenes and reason


def test_the_built_in_revised_plan_shows_and_says_the_instruction():
    plan = ScenePlan(
        number=3,
        title="Proportional sides",
        kind="statement",
        class_name="Scene03",
        storyboard="Bullets.",
        technical_plan="Text.",
        narration="Sides scale together.",
        statements=["a", "b", "c"],
    )
    revised = revised_plan(plan, "Show the word BLUE")
    assert revised.statements == ["Show the word BLUE", "a", "b", "c"]
    assert revised.narration == "Show the word BLUE. Sides scale together."
    beaten = revised_plan(
        msgspec.structs.replace(plan, beats=[PlanBeat(narration="Sides scale together.")]),
        "Show the word BLUE",
    )
    assert beaten.beats[0].narration == "Show the word BLUE."
    assert beaten.narration == "Show the word BLUE. Sides scale together."
    assert revised.class_name == plan.class_name and revised.title == plan.title
    assert plan.statements == ["a", "b", "c"]  # the stored plan is not changed in place


# --- the gateway's acceptance and view ------------------------------------------------------


def test_only_a_completed_generated_job_with_that_scene_can_be_revised():
    view = completed_view()
    assert check_revisable(view, 3) == 4 and check_revisable(view, None) == 4
    for scene in (0, 5):
        with pytest.raises(ApiError) as refused:
            check_revisable(view, scene)
        assert refused.value.status_code == 422
    for status in ("queued", "processing", "failed", "cancelled"):
        with pytest.raises(ApiError) as refused:
            check_revisable(msgspec.structs.replace(view, status=status), 1)
        assert refused.value.status_code == 409
    with pytest.raises(ApiError) as refused:
        check_revisable(msgspec.structs.replace(view, kind="render"), 1)
    assert refused.value.status_code == 409


def test_a_revision_is_numbered_and_its_attempts_start_past_every_earlier_one():
    context = revision_context([requested(), coded(1, 1), coded(3, 4), coded(2, 2)], revision=2)
    assert (context.revision, context.first_attempt) == (2, 5)
    assert context.quality == CONTEXT.quality and context.narrate == CONTEXT.narrate
    with pytest.raises(ApiError):  # the job's events expired
        revision_context([coded(1, 1)], revision=2)


def test_opening_a_revision_keeps_the_original_as_revision_one():
    view, _ = revising(completed_view())
    assert (view.status, view.revision, view.current_stage) == ("processing", 2, "planning")
    first, second = view.revisions
    assert (first.revision, first.status, first.video) == (1, "completed", completed_view().video)
    assert (second.revision, second.status, second.instruction) == (2, "processing", "make it blue")
    assert view.video == completed_view().video  # still served while the revision is made
    request = revision_request(
        view,
        revision_context([requested()], revision=2),
        scene_count=4,
        scene=1,
        instruction="again",
        now=at(101),
    )
    assert opened(view, request) is None  # a second request for the same revision loses


def test_a_revision_that_could_not_be_queued_is_withdrawn():
    view, _ = revising(completed_view())
    back = withdrawn(view, 2)
    assert back is not None
    assert (back.status, back.revision, back.completed_at) == ("completed", 1, at(60))
    assert [r.revision for r in back.revisions] == [1]


def test_media_routes_serve_the_revision_asked_for():
    view, _ = revising(completed_view())
    assert finished_video(view).video_key.endswith("job/video.mp4")  # latest stored, meanwhile
    assert finished_video(view, 1) == completed_view().video
    for number, status in ((2, 409), (3, 404)):
        with pytest.raises(ApiError) as refused:
            finished_video(view, number)
        assert refused.value.status_code == status
    with pytest.raises(ApiError) as refused:
        finished_video(completed_view(), 2)
    assert refused.value.status_code == 404
    assert finished_video(completed_view(), 1) == completed_view().video


# --- the projection of a revision's events ------------------------------------------------


def revision_planned(context: JobContext, scenes: list[int]) -> RevisionPlanned:
    return RevisionPlanned(
        job_id=JOB, user_id=USER, context=context, scene_count=4, scenes=scenes, reason="named"
    )


def test_the_planners_decision_reopens_only_the_changed_scenes():
    opened_view, context = revising(completed_view())
    view = apply(opened_view, revision_planned(context, [3]))
    assert view is not None
    assert view.revisions[-1].scenes_changed == [3] and view.revisions[-1].reason == "named"
    assert {n: s.status for n, s in view.scenes.items()} == {
        1: "rendered",
        2: "rendered",
        3: "planned",
        4: "rendered",
    }


def test_a_stored_revision_completes_the_job_with_its_video():
    opened_view, context = revising(completed_view())
    new = video("videos/alice/job/r2/video.mp4")
    stored = VideoStored(job_id=JOB, user_id=USER, video=new, context=context, occurred_at=at(200))
    view = apply(opened_view, stored)
    assert view is not None and view.status == "completed" and view.video == new
    assert [(r.revision, r.status) for r in view.revisions] == [(1, "completed"), (2, "completed")]
    assert view.revisions[1].video == new and view.revisions[0].video == completed_view().video


@pytest.mark.parametrize("how", ["failed", "cancelled"])
def test_a_revision_that_fails_or_is_cancelled_leaves_the_job_completed(how: str):
    view, _ = revising(completed_view())
    if how == "failed":
        error = JobError(code="RENDER_FAILED", stage="rendering", message="boom")
        ended = apply(view, JobFailed(job_id=JOB, user_id=USER, error=error, revision=2))
    else:
        ended = cancel(view, at=at(150))
    assert ended is not None
    assert (ended.status, ended.error, ended.video) == ("completed", None, completed_view().video)
    assert ended.revisions[-1].status == how
    assert finished_video(ended).video_key.endswith("job/video.mp4")


def test_work_of_a_superseded_revision_is_ignored():
    view, _ = revising(completed_view())
    late = SceneRendered(
        job_id=JOB,
        user_id=USER,
        context=CONTEXT,  # revision 1
        scene_number=2,
        scene_count=4,
        attempt=1,
        clip_ref="x",
        duration_seconds=99,
        render_seconds=1,
    )
    assert apply(view, late) is None
    old_failure = JobFailed(
        job_id=JOB, user_id=USER, error=JobError(code="X", stage="s", message="m")
    )
    assert revision_of(old_failure) == 1 and apply(view, old_failure) is None


def test_progress_and_usage_of_a_revision_are_projected():
    view, _ = revising(completed_view())
    moved = apply(
        view,
        ProgressReported(
            job_id=JOB,
            user_id=USER,
            stage="scenario_creation",
            percentage=BY_NAME["scenario_creation"].percentage,
            description="d",
            occurred_at=at(120),
        ),
    )
    assert moved is not None and moved.current_stage == "scenario_creation"
    spent = UsageRecorded(
        job_id=JOB, user_id=USER, stage="planning", usage=[ModelUsage(model="m", calls=2)]
    )
    counted = apply(moved, spent)
    assert counted is not None and len(counted.usage) == 1


# --- message ids, names and keys -----------------------------------------------------------


def test_a_revisions_outputs_are_new_messages_and_the_originals_keep_their_ids():
    second = msgspec.structs.replace(CONTEXT, revision=2, first_attempt=3)
    planned = ScenePlanned(
        job_id=JOB,
        user_id=USER,
        context=CONTEXT,
        scene_number=3,
        scene_count=4,
        title="t",
        plan_ref="p",
    )
    assert planned.dedup_key() == f"{JOB}:scene.planned:3"
    assert msgspec.structs.replace(planned, context=second).dedup_key() == (
        f"{JOB}:scene.planned:3:r2"
    )
    stored = VideoStored(job_id=JOB, user_id=USER, video=video("k"), revision="abc")
    assert stored.dedup_key() == f"{JOB}:video.stored:abc"
    assert msgspec.structs.replace(stored, context=second).dedup_key().endswith(":r2")
    failed = JobFailed(job_id=JOB, user_id=USER, error=JobError(code="X", stage="s", message="m"))
    assert failed.dedup_key() != msgspec.structs.replace(failed, revision=2).dedup_key()


def test_a_revision_has_its_own_plans_speech_ledger_and_stored_files():
    assert artifacts.plan_name(JOB, 3) == f"{JOB}/scenes/03/plan.json"
    assert artifacts.plan_name(JOB, 3, 2) == f"{JOB}/scenes/03/r2/plan.json"
    assert artifacts.speech_name(JOB, 3, 2) == f"{JOB}/scenes/03/r2/speech.wav"
    assert ledger_key(JOB, 1) == JOB and ledger_key(JOB, 2) == f"{JOB}.r2"
    assert revision_file(1, "video.mp4") == "video.mp4"
    assert revision_file(3, "video.mp4") == "r3/video.mp4"


def test_an_unchanged_scene_is_its_earlier_code_as_the_revisions_attempt():
    second = msgspec.structs.replace(CONTEXT, revision=2, first_attempt=3)
    earlier = coded(2, 1)
    again = carried_over(earlier, revision_planned(second, [3]))
    assert (again.attempt, again.carried_from, again.context.revision) == (3, 1, 2)
    assert (again.code_ref, again.plan_ref, again.class_name) == (
        earlier.code_ref,
        earlier.plan_ref,
        earlier.class_name,
    )
    assert again.dedup_key() != earlier.dedup_key()


def test_the_scene_report_shows_a_carried_attempt_as_a_cache_hit_of_the_revision():
    second = msgspec.structs.replace(CONTEXT, revision=2, first_attempt=2)

    def rendered(
        attempt: int, context: JobContext, *, cached: bool = False, carried_from: int | None = None
    ) -> SceneRendered:
        return SceneRendered(
            job_id=JOB,
            user_id=USER,
            context=context,
            scene_number=1,
            scene_count=4,
            attempt=attempt,
            clip_ref="c",
            duration_seconds=3,
            render_seconds=1,
            cached=cached,
            carried_from=carried_from,
        )

    (report,) = scene_reports(
        [coded(1, 1), rendered(1, CONTEXT), rendered(2, second, cached=True, carried_from=1)]
    )
    assert [(a.attempt, a.revision, a.cached, a.status) for a in report.attempts] == [
        (1, 1, False, "rendered"),
        (2, 2, True, "rendered"),
    ]
    assert report.attempts[1].code_ref == report.attempts[0].code_ref


def test_a_replay_after_a_revision_is_work_of_the_current_revision():
    records = [
        Recorded(sequence=n, stored_at=at(n), event_type="scene.coded", event=event)
        for n, event in enumerate([coded(1, 1), coded(3, 1)], start=1)
    ]
    same, _ = replay_of(records, "scene.coded", scene=1)
    assert same.context.revision == 1 and same.attempt == 2  # type: ignore[attr-defined]
    again, message_id = replay_of(records, "scene.coded", scene=1, revision=3)
    assert again.context.revision == 3 and again.attempt == 2  # type: ignore[attr-defined]
    assert message_id.endswith(":r3")
