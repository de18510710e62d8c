"""Which scenes a revision changes, and the built-in model's revised plan: plain functions.

The owner names a scene, or the planner decides: an LLM planner asks the model
(models/reviser.py); the built-in model uses `touched_by_rule`, which is deterministic so
offline runs and tests are repeatable.
"""

from __future__ import annotations

import re

import msgspec

from services.planner.models.builtin.outline import MAX_ROWS
from shared.plans import Outline, PlanBeat, ScenePlan

_ORDINALS = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
}
_NUMBERED = re.compile(r"\bscenes?\s*#?\s*(\d+)", re.IGNORECASE)
_ORDINAL = re.compile(rf"\b({'|'.join(_ORDINALS)}|last)\s+scene\b", re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]{3,}")
_COMMON = frozenset(
    [
        "this",
        "that",
        "with",
        "from",
        "into",
        "make",
        "more",
        "less",
        "than",
        "scene",
        "scenes",
        "video",
        "please",
        "should",
        "would",
        "could",
        "them",
        "they",
        "their",
        "there",
        "here",
        "what",
        "when",
        "where",
        "which",
        "about",
        "show",
        "shows",
    ]
)


def touched_by_rule(outline: Outline, instruction: str) -> tuple[list[int], str]:
    """The scenes an instruction is about, and why: the scenes it names ("scene 3", "the
    third scene", "the last scene"), else those whose title shares a word with it, else
    every scene (an instruction about the whole video)."""
    count = len(outline.scenes)
    named = {int(number) for number in _NUMBERED.findall(instruction)}
    for word in _ORDINAL.findall(instruction):
        named.add(count if word.lower() == "last" else _ORDINALS[word.lower()])
    named = {number for number in named if 1 <= number <= count}
    if named:
        return sorted(named), "the instruction names " + _listing(sorted(named))
    words = _words(instruction)
    titled = [s.number for s in outline.scenes if words & _words(s.title)]
    if titled:
        return titled, "the instruction mentions the title of " + _listing(titled)
    return [s.number for s in outline.scenes], "the instruction names no scene: every scene"


def revised_plan(plan: ScenePlan, instruction: str) -> ScenePlan:
    """The built-in model's plan after `instruction`: it shows and says the instruction.

    Every built-in drawing puts a plan's first statement on screen, and the narration
    speaks it first, so the change is visible and heard (and new beats are made).
    """
    said = instruction if instruction.endswith((".", "!", "?")) else f"{instruction}."
    first = PlanBeat(narration=said, visual=f'"{instruction}" is shown first')
    return msgspec.structs.replace(
        plan,
        statements=[instruction, *plan.statements][: max(MAX_ROWS, 1)],
        beats=[first, *plan.beats] if plan.beats else [],
        narration=f"{said} {plan.narration}".strip(),
        storyboard=f'{plan.storyboard} Revised: "{instruction}" is shown first.',
        speech_seconds=None,
    )


def _words(text: str) -> set[str]:
    return {word.lower() for word in _WORD.findall(text)} - _COMMON


def _listing(numbers: list[int]) -> str:
    return ("scenes " if len(numbers) > 1 else "scene ") + ", ".join(map(str, numbers))
