"""Code timed to the voice: the prompt's beat script, the built-in model's pacing, the
helpers the renderer appends, and subtitles cut from the beats."""

from __future__ import annotations

import asyncio

import pytest

from services.coder.checks import code_problems, manim_names
from services.coder.models.builtin import BuiltinCoder
from services.coder.models.builtin.code import CLOSING_FADE
from services.coder.narrated import paced_builtin, timed_for
from services.coder.plan_prompt import beats_section
from services.coder.timing import paced
from services.gateway.eventlog import log_lines
from services.gateway.projection import apply
from services.planner.models.builtin.outline import build_outline, build_plan
from services.renderer.spoken_cues import spoken_cues
from shared.code_policy import policy_violations
from shared.events import Beat, JobConfig, JobContext, Narration, SceneNarrated
from shared.jobview import JobView
from shared.scene_timing import HELPER_NAMES, MARKER, with_timing_helpers


def narration(*durations: float, voice: str = "piper:en_US-joe-medium") -> Narration:
    beats, at = [], 0.0
    for index, duration in enumerate(durations):
        beats.append(
            Beat(
                text=f"Sentence number {index}.",
                start_seconds=round(at, 3),
                duration_seconds=duration,
                spoken_seconds=duration - 0.3,
            )
        )
        at += duration
    return Narration(voice=voice, beats=beats, audio_ref="speech.wav", speech_seconds=round(at, 3))


def plan(number: int = 2):
    topic, context = "The Pythagorean Theorem", "a^2 + b^2 = c^2 for a right triangle."
    return build_plan(topic, context, build_outline(topic, context), number)


def test_an_llm_gets_each_beat_with_its_time_and_the_helpers():
    scene = plan()
    timed = timed_for(scene, narration(2.0, 3.5), "openai/gpt-4o-mini")
    script = beats_section(timed)
    assert "Beat 0 at 0.0 s for 2.0 s: “Sentence number 0.”" in script
    assert "Beat 1 at 2.0 s for 3.5 s: “Sentence number 1.”" in script
    assert "Speech ends at 5.5 s." in script
    assert "self.wait_until_beat(i)" in script
    assert timed.storyboard == scene.storyboard and "Speech ends" not in beats_section(scene)
    assert timed_for(scene, narration(2.0), "builtin") is scene  # paced afterwards instead
    assert timed_for(scene, None, "openai/x") is scene


def test_builtin_code_is_spread_over_the_beats_and_holds_to_the_end():
    scene = plan()
    code = asyncio.run(BuiltinCoder().write_code(scene))
    timed = paced_builtin(code, narration(2.0, 2.0, 2.0), scene)
    added = [line.strip() for line in timed.splitlines() if "wait_until" in line]
    assert added[-1] == "self.wait_until_end()"
    assert all(line.startswith("self.wait_until_beat(") for line in added[:-1])
    last_two = [line.strip() for line in timed.rstrip().splitlines()[-2:]]
    assert last_two == ["self.wait_until_end()", CLOSING_FADE]  # the screen clears after
    assert (
        code_problems(timed, class_name=scene.class_name, known_names=manim_names() | HELPER_NAMES)
        == []
    )
    assert paced(timed, narration(2.0, 2.0), class_name=scene.class_name) == timed
    assert paced_builtin(code, None, scene) == code


@pytest.mark.parametrize(
    ("ending", "closing"),
    [
        ("self.play(*[FadeOut(m) for m in self.mobjects], run_time=0.5)", True),
        ("self.play(FadeOut(a), FadeOut(b))", True),
        ("self.play(FadeOut(a), Write(b))", False),
        ("self.play(*animations)", False),
        ("self.wait(1)", False),
    ],
)
def test_only_a_closing_fade_out_follows_the_speech(ending: str, closing: bool):
    code = (
        "from manim import *\n\n\nclass S(Scene):\n    def construct(self):\n"
        f"        a, b = Dot(), Dot()\n        self.play(Create(a))\n        {ending}\n"
    )
    lines = [line.strip() for line in paced(code, narration(1.0), class_name="S").splitlines()]
    expected = (
        [ending, "self.wait_until_end()"] if not closing else ["self.wait_until_end()", ending]
    )
    assert lines[-2:] == expected


def test_helpers_pass_the_policy_and_are_added_once():
    code = (
        "from manim import *\n\n\nclass A(Scene):\n    def construct(self):\n"
        "        self.wait_until_beat(1)\n        self.wait_until_end()\n"
    )
    full = with_timing_helpers(code, narration(1.5, 2.5))
    assert full.startswith(code.rstrip("\n"))  # the code's own lines keep their numbers
    assert "BEATS = [1.5, 2.5]" in full and "BEAT_STARTS = [0.0, 1.5]" in full
    assert "SPEECH_SECONDS = 4.0" in full
    assert policy_violations(full) == []
    assert with_timing_helpers(full, narration(9.0)) == full
    assert full.count(MARKER) == 1


def test_cues_start_with_each_beat_and_stay_inside_their_scene():
    spoken = narration(2.0, 3.0)
    cues = spoken_cues([spoken, None], ["unused", "A silent scene. It has text."], [0.0, 5.6], 9.0)
    assert [(c.start_ms, c.end_ms, c.text) for c in cues[:2]] == [
        (0, 1700, "Sentence number 0."),
        (2000, 4700, "Sentence number 1."),
    ]
    assert [c.text for c in cues[2:]] == ["A silent scene.", "It has text."]
    assert cues[2].start_ms == 5600 and cues[-1].end_ms == 9000
    long_beat = Narration(
        voice="v",
        beats=[
            Beat(
                text=" ".join(["word"] * 40) + ".",
                start_seconds=0.0,
                duration_seconds=10,
                spoken_seconds=9.5,
            )
        ],
        speech_seconds=10,
    )
    pieces = spoken_cues([long_beat], [None], [1.0], 12.0)
    assert len(pieces) > 1 and pieces[0].start_ms == 1000 and pieces[-1].end_ms == 10500


def test_the_view_and_the_log_name_the_voice():
    context = JobContext(quality="low", scene_model="builtin", narrate=True)
    view = JobView(job_id="j", user_id="u", config=JobConfig(topic="t", context="c"))
    events = [
        SceneNarrated(
            job_id="j",
            user_id="u",
            context=context,
            scene_number=n,
            scene_count=2,
            title="t",
            plan_ref="p",
            narration=narration(2.0, voice=voice),
            fallback_reason=reason,
        )
        for n, voice, reason in (
            (1, "openai/tts-1:alloy", None),
            (2, "piper:en_US-joe-medium", "openai/tts-1: HTTP 503"),
        )
    ]
    for event in events:
        view = apply(view, event) or view
    assert view.voices == ["openai/tts-1:alloy", "piper:en_US-joe-medium"]
    assert view.scenes[2].voice == "piper:en_US-joe-medium"
    assert view.scenes[1].speech_seconds == 2.0
    lines = log_lines(events)
    assert lines[0].level == "info" and "voiced by openai/tts-1:alloy: 1 beats" in lines[0].message
    assert lines[1].level == "warning" and "HTTP 503" in lines[1].message
