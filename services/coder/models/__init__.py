"""The seam between the coder and whatever writes and repairs a scene's Manim code.

The coder only ever talks to a `SceneCoder`: the built-in offline model (`builtin`) and
an LLM (`llm.LLMCoder`) implement the same two calls, so the stage never knows which one
it is driving.
"""

from __future__ import annotations

from typing import Protocol

from services.coder.models.builtin import BuiltinCoder
from services.coder.models.llm import DocSearch, LLMCoder
from shared.llm.providers import LLMClients
from shared.llm.usage import UsageMeter
from shared.plans import ScenePlan


class SceneCoder(Protocol):
    """Writes a scene's Manim code from its plan, and repairs code that failed."""

    name: str

    async def write_code(self, plan: ScenePlan) -> str: ...

    async def repair_code(self, plan: ScenePlan, *, code: str, error: str) -> str: ...


def resolve_coder(
    name: str,
    *,
    clients: LLMClients,
    docs: DocSearch | None = None,
    meter: UsageMeter | None = None,
) -> SceneCoder:
    """The coder a setting or a job's `model` names: `builtin`, or `provider/model`.

    An LLM's calls are counted on `meter`; it finds Manim docs with `docs` when given.
    """
    if name == "builtin":
        return BuiltinCoder()
    helper_name = clients.settings.helper_model
    helper = None if helper_name == "builtin" else clients.chat(helper_name, meter=meter)
    return LLMCoder(
        clients.chat(name, meter=meter),
        helper=helper,
        docs=docs,
        top_k=clients.settings.rag_top_k,
    )
