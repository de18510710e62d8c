"""The seam between the pipeline and whatever writes plans and Manim code.

The planner and coder only ever talk to a `SceneModel`. The built-in offline model
(`shared.builtin_model`) and LLM-backed models implement the same four calls, so a
stage never knows which one it is driving.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import msgspec

if TYPE_CHECKING:
    from shared.llm.providers import LLMClients
    from shared.llm.scene_model import DocSearch
    from shared.llm.usage import UsageMeter

MIN_SCENES = 3
MAX_SCENES = 7


class SceneOutline(msgspec.Struct, kw_only=True):
    """One line of the outline: what a scene is for, before it is written."""

    number: int
    title: str
    purpose: str
    kind: str = "statement"  # intro | statement | formula | diagram | example | summary


class Outline(msgspec.Struct, kw_only=True):
    """The scene outline of a whole video (planning stage)."""

    topic: str
    scenes: list[SceneOutline]


class ScenePlan(msgspec.Struct, kw_only=True):
    """A scene written out (scenario_creation stage): what is seen, how, and what is said."""

    number: int
    title: str
    kind: str
    class_name: str
    storyboard: str
    technical_plan: str
    narration: str
    statements: list[str] = []
    formulas: list[str] = []
    diagram: str | None = None


class ModelUsage(msgspec.Struct, kw_only=True):
    """What a model call cost; the built-in model reports zeros."""

    model: str
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0  # estimated from a price table; 0 for local or unknown models


class SceneModel(Protocol):
    """Plans scenes and writes (and repairs) their Manim code."""

    name: str

    async def outline(self, *, topic: str, context: str) -> Outline: ...

    async def plan_scene(
        self, *, topic: str, context: str, outline: Outline, number: int
    ) -> ScenePlan: ...

    async def write_code(self, plan: ScenePlan) -> str: ...

    async def repair_code(self, plan: ScenePlan, *, code: str, error: str) -> str: ...


class UnknownModel(ValueError):
    """A model name no configured provider serves."""


def resolve_model(
    name: str,
    *,
    clients: LLMClients | None = None,
    docs: DocSearch | None = None,
    meter: UsageMeter | None = None,
) -> SceneModel:
    """The model a setting or a job's `model` field names.

    `builtin` is the deterministic offline model; `provider/model` is an LLM behind an
    OpenAI-compatible endpoint from `clients`, its calls counted on `meter`.
    """
    if name == "builtin":
        from shared.builtin_model import BuiltinModel

        return BuiltinModel()
    if clients is None:
        raise UnknownModel(
            f"unknown model {name!r}: this installation serves 'builtin' "
            "(configure an OpenAI-compatible endpoint to use LLM models)"
        )
    from shared.llm.scene_model import llm_scene_model

    return llm_scene_model(name, clients=clients, docs=docs, meter=meter)
