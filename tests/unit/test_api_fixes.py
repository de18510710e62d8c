"""The coder's draft loop with API rewrites: each draft rewritten before its checks, and the
model told about the rewrites when it is asked to fix the draft."""

from __future__ import annotations

import functools

from services.coder.api_fixes import ApiFixes
from services.coder.authoring import write_checked
from services.coder.checks import code_problems, manim_names
from shared.plans import Outline, ScenePlan

PLAN = ScenePlan(
    number=1,
    title="Intro",
    kind="statement",
    class_name="Scene01Intro",
    storyboard="A circle.",
    technical_plan="Circle",
    narration="A circle.",
)


def _module(body: str) -> str:
    return (
        f"from manim import *\n\n\nclass Scene01Intro(Scene):\n    def construct(self):\n{body}\n"
    )


class _Scripted:
    """A SceneModel that answers from a script and records the fix requests it gets."""

    name = "scripted"

    def __init__(self, drafts: list[str]) -> None:
        self.drafts = drafts
        self.errors: list[str] = []

    async def outline(self, *, topic: str, context: str) -> Outline:
        raise NotImplementedError

    async def plan_scene(self, **_: object) -> ScenePlan:
        raise NotImplementedError

    async def write_code(self, plan: ScenePlan) -> str:
        return self.drafts.pop(0)

    async def repair_code(self, plan: ScenePlan, *, code: str, error: str) -> str:
        self.errors.append(error)
        return self.drafts.pop(0)


CHECK = functools.partial(code_problems, class_name="Scene01Intro", known_names=manim_names())


async def test_idioms_are_rewritten_without_asking_the_model() -> None:
    model = _Scripted([_module("        self.play(ShowCreation(Circle()))")])
    fixes = ApiFixes()
    code = await write_checked(model, PLAN, check=CHECK, rounds=2, fix=fixes)
    assert "self.play(Create(Circle()))" in code
    assert model.errors == []
    assert [(r.before, r.after) for r in fixes.rewrites] == [("ShowCreation", "Create")]


async def test_a_fix_request_names_the_rewrites_of_the_draft_it_fixes() -> None:
    model = _Scripted(
        [
            _module("        self.play(ShowCreation(Cirle()))"),
            _module("        self.play(Create(Circle()))"),
        ]
    )
    fixes = ApiFixes()
    code = await write_checked(model, PLAN, check=CHECK, rounds=2, fix=fixes)
    [error] = model.errors
    assert "did you mean Circle" in error
    assert "line 6: ShowCreation -> Create" in error  # the draft the model gets back has Create
    assert "Create(Circle())" in code
    assert fixes.rewrites == []  # the final draft needed none
