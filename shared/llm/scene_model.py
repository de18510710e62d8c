"""`LLMSceneModel`: the `SceneModel` of shared.model, written by an LLM.

One class serves both stages (the planner calls `outline`/`plan_scene`, the coder
`write_code`/`repair_code`), so its prompts live in one folder, shared/llm/prompts.
Code is written from the scene's plan plus Manim docs found by a `DocSearch`; the
helper model (HELPER_MODEL) writes the search queries when it is an LLM.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from importlib.metadata import version
from typing import Annotated, Protocol

import msgspec

from shared.llm import prompts
from shared.llm.client import ChatClient, Message
from shared.llm.providers import LLMClients
from shared.llm.structured import InvalidAnswer, ask_structured, code_text
from shared.llm.usage import UsageMeter
from shared.model import MAX_SCENES, MIN_SCENES, Outline, SceneOutline, ScenePlan

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


class _Scene(msgspec.Struct):
    title: Annotated[str, msgspec.Meta(min_length=1)]
    purpose: str = ""
    kind: str = "statement"


class _OutlineAnswer(msgspec.Struct):
    scenes: Annotated[list[_Scene], msgspec.Meta(min_length=MIN_SCENES, max_length=MAX_SCENES)]


class _PlanAnswer(msgspec.Struct):
    storyboard: Annotated[str, msgspec.Meta(min_length=1)]
    technical_plan: Annotated[str, msgspec.Meta(min_length=1)]
    narration: Annotated[str, msgspec.Meta(min_length=1)]


class _Queries(msgspec.Struct):
    queries: list[str]


def _check_plan(answer: _PlanAnswer) -> None:
    if len(answer.narration.split()) < 3:
        raise InvalidAnswer("the narration must be at least one full sentence")


def class_name_for(number: int, title: str) -> str:
    """A valid, readable Python class name for a scene: `Scene02ThePythagoreanTheorem`."""
    words = re.findall(r"[A-Za-z0-9]+", title)
    camel = "".join(word[:1].upper() + word[1:] for word in words)[:40]
    return f"Scene{number:02d}{camel}"


class LLMSceneModel:
    """Plans and codes scenes with an LLM; see the module docstring."""

    def __init__(
        self,
        chat: ChatClient,
        *,
        helper: ChatClient | None = None,
        docs: DocSearch | None = None,
        max_reasks: int = 2,
        top_k: int = 5,
    ) -> None:
        self.chat = chat
        self.helper = helper
        self.docs = docs
        self.max_reasks = max_reasks
        self.top_k = top_k
        self.name = chat.model_string
        self.manim_version = version("manim")

    def _messages(self, prompt: str, **values: object) -> list[Message]:
        system = prompts.render("system", manim_version=self.manim_version)
        return [
            {"role": "system", "content": system},
            {"role": "user", "content": prompts.render(prompt, **values)},
        ]

    async def outline(self, *, topic: str, context: str) -> Outline:
        answer = await ask_structured(
            self.chat,
            self._messages("outline", topic=topic, context=context or topic,
                           min_scenes=MIN_SCENES, max_scenes=MAX_SCENES),
            _OutlineAnswer,
            max_reasks=self.max_reasks,
        )
        return Outline(
            topic=topic,
            scenes=[
                SceneOutline(number=n, title=s.title, purpose=s.purpose, kind=s.kind)
                for n, s in enumerate(answer.scenes, start=1)
            ],
        )

    async def plan_scene(
        self, *, topic: str, context: str, outline: Outline, number: int
    ) -> ScenePlan:
        scene = next(s for s in outline.scenes if s.number == number)
        listing = "\n".join(f"{s.number}. {s.title}: {s.purpose}" for s in outline.scenes)
        answer = await ask_structured(
            self.chat,
            self._messages("scene_plan", topic=topic, context=context or topic, outline=listing,
                           number=number, title=scene.title, purpose=scene.purpose),
            _PlanAnswer,
            max_reasks=self.max_reasks,
            check=_check_plan,
        )
        return ScenePlan(
            number=number, title=scene.title, kind=scene.kind,
            class_name=class_name_for(number, scene.title), storyboard=answer.storyboard,
            technical_plan=answer.technical_plan, narration=answer.narration,
        )

    async def write_code(self, plan: ScenePlan) -> str:
        docs = await self._docs(f"{plan.storyboard}\n{plan.technical_plan}")
        reply = await self.chat.complete(self._messages(
            "code", topic=plan.title, number=plan.number, storyboard=plan.storyboard,
            technical_plan=plan.technical_plan, narration=plan.narration, docs=docs,
            class_name=plan.class_name, manim_version=self.manim_version,
        ))
        return code_text(reply)

    async def repair_code(self, plan: ScenePlan, *, code: str, error: str) -> str:
        docs = await self._docs(f"Fix this Manim error:\n{error[-1500:]}")
        reply = await self.chat.complete(self._messages(
            "repair", number=plan.number, title=plan.title, class_name=plan.class_name,
            error=error, code=code.rstrip(), docs=docs,
        ))
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
            max_reasks=1,
        )
        return [q for q in answer.queries if q.strip()][:MAX_QUERIES] or plain_queries(need)


def plain_queries(need: str) -> list[str]:
    """Queries without a helper model: the longest lines of the need, then all of it."""
    lines = sorted((ln.strip() for ln in need.splitlines() if ln.strip()), key=len, reverse=True)
    return [*lines[: MAX_QUERIES - 1], need[:2000]]


def llm_scene_model(
    name: str, *, clients: LLMClients, docs: DocSearch | None, meter: UsageMeter | None
) -> LLMSceneModel:
    """The LLM model `name` (`provider/model`); `UnknownModel` if no endpoint serves it."""
    helper_name = clients.settings.helper_model
    helper = None if helper_name == "builtin" else clients.chat(helper_name, meter=meter)
    return LLMSceneModel(
        clients.chat(name, meter=meter), helper=helper, docs=docs,
        max_reasks=clients.settings.llm_max_reasks, top_k=clients.settings.rag_top_k,
    )
