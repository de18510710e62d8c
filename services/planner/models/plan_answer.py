"""An LLM's scene plan, as JSON: its shape, and the checks that send a bad one back.

msgspec checks the shape (a missing part is a validation error naming it); `check_plan`
checks what a shape cannot say: beats that fit a subtitle, regions on the storyboard's
grid, animations that name the objects the storyboard placed. `ask_structured` sends
any of these problems back to the model, which answers again.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from shared.llm.structured import InvalidAnswer
from shared.plans import MAX_BEAT_CHARS, REGIONS, PlanBeat, PlanObject

MAX_OBJECTS = 16
MAX_BEATS = 12
MIN_BEAT_WORDS = 3

_Text = Annotated[str, msgspec.Meta(min_length=1)]


class ObjectAnswer(msgspec.Struct):
    name: _Text
    manim: _Text
    content: str = ""
    region: str = "center"
    placement: str = ""


class BeatAnswer(msgspec.Struct):
    narration: _Text
    animations: Annotated[list[str], msgspec.Meta(min_length=1)]
    visual: str = ""


class PlanAnswer(msgspec.Struct):
    storyboard: _Text
    objects: Annotated[list[ObjectAnswer], msgspec.Meta(min_length=1, max_length=MAX_OBJECTS)]
    technical_plan: _Text
    beats: Annotated[list[BeatAnswer], msgspec.Meta(min_length=1, max_length=MAX_BEATS)]


def check_plan(answer: PlanAnswer) -> None:
    """Raise InvalidAnswer with every problem the model should fix, in one message."""
    problems = [*_object_problems(answer.objects), *_beat_problems(answer)]
    if problems:
        raise InvalidAnswer("; ".join(problems[:8]))


def _object_problems(objects: list[ObjectAnswer]) -> list[str]:
    problems, seen = [], set()
    for obj in objects:
        if not obj.name.isidentifier():
            problems.append(f"object name {obj.name!r} is not a Python identifier")
        elif obj.name in seen:
            problems.append(f"object name {obj.name!r} is used twice")
        seen.add(obj.name)
        if not obj.manim.isidentifier() or not obj.manim[:1].isupper():
            problems.append(f"object {obj.name!r}: manim must be a class name like Text")
        if obj.region not in REGIONS:
            problems.append(f"object {obj.name!r}: region must be one of {', '.join(REGIONS)}")
    return problems


def _beat_problems(answer: PlanAnswer) -> list[str]:
    names = {obj.name for obj in answer.objects}
    problems = []
    for index, beat in enumerate(answer.beats):
        words = len(beat.narration.split())
        if words < MIN_BEAT_WORDS:
            problems.append(f"beat {index}: the narration must be a full sentence")
        if len(beat.narration) > MAX_BEAT_CHARS:
            problems.append(
                f"beat {index}: the narration has {len(beat.narration)} characters, "
                f"at most {MAX_BEAT_CHARS} (split it into two beats)"
            )
        unknown = [a for a in beat.animations if not any(n in a for n in names)]
        if unknown:
            problems.append(
                f"beat {index}: animation {unknown[0]!r} names none of the objects "
                f"({', '.join(sorted(names))})"
            )
    return problems


def plan_parts(answer: PlanAnswer) -> tuple[list[PlanObject], list[PlanBeat]]:
    """The answer's objects and beats as the plan types."""
    objects = [
        PlanObject(
            name=o.name, manim=o.manim, content=o.content, region=o.region, placement=o.placement
        )
        for o in answer.objects
    ]
    beats = [
        PlanBeat(narration=b.narration.strip(), visual=b.visual, animations=list(b.animations))
        for b in answer.beats
    ]
    return objects, beats
