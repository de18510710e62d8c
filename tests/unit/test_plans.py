"""Plans worth rendering: the target-length budget, an LLM's scene plan checked (and sent
back when it is not usable), beats as the narration's one source of truth, and the code
prompt's storyboard, technical and narration sections."""

from __future__ import annotations

import json

import msgspec
import pytest

from services.coder.plan_prompt import beats_section, storyboard_section, technical_section
from services.coder.timing import timed_plan
from services.narrator.beats import plan_beats
from services.planner.budget import MAX_SCENES, MIN_SCENES, scene_budget
from services.planner.models.plan_answer import PlanAnswer, check_plan, plan_parts
from shared.events import Beat, Narration
from shared.llm.structured import InvalidAnswer
from shared.plans import MAX_BEAT_CHARS, MAX_TARGET_MINUTES, PlanBeat, PlanObject, ScenePlan
from tests.plan_answers import plan_json


def test_budget_grows_in_scenes_and_depth():
    budgets = [scene_budget(m) for m in (0.5, 1, 1.5, 2, 3, 5, 7, 10)]
    scenes = [b.scenes for b in budgets]
    beats = [b.beats_per_scene for b in budgets]
    assert scenes == sorted(scenes) and beats == sorted(beats)
    assert scene_budget(1).scenes == 4 and scene_budget(5).scenes > scene_budget(1).scenes
    assert scene_budget(5).beats_per_scene > scene_budget(1).beats_per_scene
    for budget in budgets:  # the scenes' speech adds up to the target
        assert budget.scenes * budget.scene_seconds == pytest.approx(
            60 * budget.target_minutes, rel=0.02
        )
        assert MIN_SCENES <= budget.min_scenes <= budget.scenes <= budget.max_scenes <= MAX_SCENES
    assert scene_budget(99) == scene_budget(MAX_TARGET_MINUTES)  # clamped, never more


def _answer(**changes: object) -> dict:
    answer = json.loads(plan_json("A circle appears. It is round."))
    answer.update(changes)
    return answer


def _decode(answer: dict) -> PlanAnswer:
    plan = msgspec.json.decode(json.dumps(answer), type=PlanAnswer)
    check_plan(plan)
    return plan


def test_a_complete_answer_becomes_objects_and_beats():
    objects, beats = plan_parts(_decode(_answer()))
    assert [(o.name, o.manim, o.region) for o in objects] == [("shape", "Circle", "center")]
    assert [(b.narration, b.animations) for b in beats] == [
        ("A circle appears. It is round.", ["Create(shape)"])
    ]


@pytest.mark.parametrize("missing", ["storyboard", "objects", "technical_plan", "beats"])
def test_an_answer_missing_a_part_is_an_error_naming_it(missing: str):
    answer = _answer()
    del answer[missing]
    with pytest.raises(msgspec.ValidationError, match=f"missing required field `{missing}`"):
        _decode(answer)


def test_a_beat_without_animations_is_an_error():
    answer = _answer(beats=[{"narration": "A circle appears on screen.", "animations": []}])
    with pytest.raises(msgspec.ValidationError, match="animations"):
        _decode(answer)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"objects": [{"name": "my shape", "manim": "Circle"}]}, "not a Python identifier"),
        ({"objects": [{"name": "shape", "manim": "circle()"}]}, "class name like Text"),
        ({"objects": [{"name": "shape", "manim": "Circle", "region": "middle"}]}, "region"),
        (
            {"objects": [{"name": "shape", "manim": "Circle"}, {"name": "shape", "manim": "Dot"}]},
            "used twice",
        ),
        (
            {"beats": [{"narration": "Now it grows.", "animations": ["Create(square)"]}]},
            "names none of the objects (shape)",
        ),
        (
            {"beats": [{"narration": "Look.", "animations": ["Create(shape)"]}]},
            "full sentence",
        ),
        (
            {"beats": [{"narration": "word " * 60, "animations": ["Create(shape)"]}]},
            f"at most {MAX_BEAT_CHARS}",
        ),
    ],
)
def test_unusable_answers_are_sent_back_with_the_reason(change: dict, problem: str):
    with pytest.raises(InvalidAnswer, match=problem.replace("(", r"\(").replace(")", r"\)")):
        _decode(_answer(**change))


def _plan(*beats: PlanBeat, narration: str = "") -> ScenePlan:
    return ScenePlan(
        number=1,
        title="Circles",
        kind="statement",
        class_name="Scene01",
        storyboard="A circle in the middle.",
        technical_plan="Circle of radius 2.",
        narration=narration,
        objects=[
            PlanObject(
                name="shape", manim="Circle", content="radius 2", placement="move_to(ORIGIN)"
            ),
            PlanObject(name="label", manim="Text", content="r", region="top"),
        ],
        beats=list(beats),
    )


TWO_BEATS = (
    PlanBeat(
        narration="A circle appears. It is round.", visual="circle", animations=["Create(shape)"]
    ),
    PlanBeat(narration="Its radius is r.", visual="label", animations=["Write(label)"]),
)


def test_beats_are_the_one_source_of_the_narration():
    plan = _plan(*TWO_BEATS, narration="something stale")
    assert plan.narration == "A circle appears. It is round. Its radius is r."
    stored = msgspec.json.decode(
        msgspec.json.encode(plan).replace(b"It is round", b"XX"), type=ScenePlan
    )
    assert stored.narration == "A circle appears. XX. Its radius is r."
    # The narrator speaks the plan's beats as they are: two beats, not three sentences.
    assert plan_beats(plan) == ["A circle appears. It is round.", "Its radius is r."]
    assert plan_beats(_plan(narration="One sentence here. Another sentence there.")) == [
        "One sentence here.",
        "Another sentence there.",
    ]
    assert plan_beats(_plan(PlanBeat(narration="Bad\x00 byte in speech."))) == [
        "Bad byte in speech."
    ]


def _spoken(*durations: float) -> Narration:
    beats, at = [], 0.0
    for index, duration in enumerate(durations):
        beats.append(
            Beat(
                text=f"Said {index}.",
                start_seconds=at,
                duration_seconds=duration,
                spoken_seconds=duration - 0.3,
            )
        )
        at += duration
    return Narration(voice="test", beats=beats, speech_seconds=at)


def test_spoken_timings_join_the_plan_beats():
    timed = timed_plan(_plan(*TWO_BEATS), _spoken(2.5, 1.5))
    assert [(b.start_seconds, b.duration_seconds) for b in timed.beats] == [(0.0, 2.5), (2.5, 1.5)]
    assert timed.beats[1].animations == ["Write(label)"] and timed.speech_seconds == 4.0
    # Spoken differently (a plan without beats): the spoken beats stand in, with no visuals.
    other = timed_plan(_plan(narration="One. Two. Three."), _spoken(1, 1, 1))
    assert [b.narration for b in other.beats] == ["Said 0.", "Said 1.", "Said 2."]


def test_the_code_prompt_sections_carry_layout_objects_and_beats():
    plan = timed_plan(_plan(*TWO_BEATS), _spoken(2.5, 1.5))
    storyboard = storyboard_section(plan)
    assert "A circle in the middle." in storyboard
    assert "at least 0.5 units inside each edge and 0.3 units from the others" in storyboard
    assert "- shape: center, move_to(ORIGIN)" in storyboard and "- label: top" in storyboard
    technical = technical_section(plan)
    assert "- shape = Circle: radius 2" in technical and "Circle of radius 2." in technical
    beats = beats_section(plan)
    assert "Beat 0 at 0.0 s for 2.5 s: “A circle appears. It is round.”" in beats
    assert "  animations: Write(label)" in beats and "Speech ends at 4.0 s." in beats
    assert "wait_until_beat" in beats
    silent = beats_section(_plan(*TWO_BEATS))
    assert "Beat 1: “Its radius is r.”" in silent and "wait_until_beat" not in silent
