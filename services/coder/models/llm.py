"""`LLMCoder`: Manim code for a scene plan, written and repaired by an LLM.

Code is written from the scene's plan plus Manim docs found by a `DocSearch`; the
helper model (HELPER_MODEL) writes the search queries when it is an LLM. The prompts
are the files in services/coder/prompts.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib.metadata import version
from pathlib import Path
from typing import Protocol

import msgspec

from services.coder.plan_prompt import beats_section, storyboard_section, technical_section
from shared.code_policy import SCENE_IMPORTS
from shared.llm.client import ChatClient, Message
from shared.llm.prompts import PromptFolder
from shared.llm.structured import ask_structured, code_text
from shared.plans import ScenePlan

PROMPTS = PromptFolder(Path(__file__).resolve().parents[1] / "prompts")

MAX_QUERIES = 4
NO_DOCS = "(retrieval is off: rely on what you know of this Manim version)"


class DocHit(msgspec.Struct, frozen=True):
    """One retrieved piece of Manim documentation."""

    name: str
    text: str
    score: float = 0.0
    covers: tuple[str, ...] = ()  # API names an example document demonstrates


class DocSearch(Protocol):
    """Finds Manim documentation for natural-language queries (the coder's retriever)."""

    async def search(self, queries: Sequence[str], *, limit: int) -> list[DocHit]: ...


class _Queries(msgspec.Struct):
    queries: list[str]


class LLMCoder:
    """Writes and repairs scene code with an LLM; see the module docstring."""

    def __init__(
        self,
        chat: ChatClient,
        *,
        helper: ChatClient | None = None,
        docs: DocSearch | None = None,
        top_k: int = 5,
    ) -> None:
        self.chat = chat
        self.helper = helper
        self.docs = docs
        self.top_k = top_k
        self.name = chat.model_string
        self.manim_version = version("manim")

    def _messages(self, prompt: str, **values: object) -> list[Message]:
        return PROMPTS.messages(prompt, manim_version=self.manim_version, **values)

    async def write_code(self, plan: ScenePlan) -> str:
        technical = technical_section(plan)
        docs = await self._docs(f"{plan.storyboard}\n{technical}")
        reply = await self.chat.complete(
            self._messages(
                "code",
                topic=plan.title,
                number=plan.number,
                storyboard=storyboard_section(plan),
                technical_plan=technical,
                beats=beats_section(plan),
                docs=docs,
                class_name=plan.class_name,
                allowed_imports=", ".join(SCENE_IMPORTS),
                style=plan.style or "(none given)",
            ),
            purpose="code",
        )
        return code_text(reply)

    async def repair_code(self, plan: ScenePlan, *, code: str, error: str) -> str:
        docs = await self._docs(f"Fix this Manim error:\n{error[-1500:]}")
        reply = await self.chat.complete(
            self._messages(
                "repair",
                number=plan.number,
                title=plan.title,
                class_name=plan.class_name,
                error=error,
                code=code.rstrip(),
                docs=docs,
            ),
            purpose="repair",
        )
        return code_text(reply)

    async def _docs(self, need: str) -> str:
        """Manim docs for `need`, formatted for a prompt."""
        if self.docs is None:
            return NO_DOCS
        hits = await self.docs.search(await self._queries(need), limit=self.top_k)
        return "\n\n".join(f"### {hit.name}\n{hit.text}" for hit in hits) or NO_DOCS

    async def _queries(self, need: str) -> list[str]:
        """Search queries for `need`: the helper model's, or the text's own lines."""
        if self.helper is None:
            return plain_queries(need)
        answer = await ask_structured(
            self.helper,
            self._messages("queries", count=MAX_QUERIES, need=need),
            _Queries,
            purpose="queries",
            max_reasks=1,
        )
        return [q for q in answer.queries if q.strip()][:MAX_QUERIES] or plain_queries(need)


def plain_queries(need: str) -> list[str]:
    """Queries without a helper model: the longest lines of the need, then all of it."""
    lines = sorted((ln.strip() for ln in need.splitlines() if ln.strip()), key=len, reverse=True)
    return [*lines[: MAX_QUERIES - 1], need[:2000]]
