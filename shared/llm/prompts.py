"""Prompt files (shared/llm/prompts/*.md), filled with `$name` placeholders.

The prompts are files so they can be read and tuned without touching code; they live
beside the one model class both the planner and the coder use.
"""

from __future__ import annotations

import functools
from pathlib import Path
from string import Template

PROMPTS = Path(__file__).parent / "prompts"


@functools.cache
def _template(name: str) -> Template:
    return Template((PROMPTS / f"{name}.md").read_text())


def render(name: str, **values: object) -> str:
    """Prompt `name` with every placeholder filled; a missing value is a KeyError."""
    return _template(name).substitute({key: str(value) for key, value in values.items()})
