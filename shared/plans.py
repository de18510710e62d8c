"""What the planner hands the coder: the outline of a video and each scene's plan.

The planner writes these (services/planner/models), the coder reads them
(services/coder/models), and the renderer reads a plan's narration for subtitles, so
the types live here, in one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

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
    diagram: str | None = None  # a built-in drawing: triangle | circle | axes_plot | …
    diagram_variant: str | None = None  # which drawing of that kind (e.g. "kite")
    style: str = ""  # the job's style preferences, as `style_text` spells them for a prompt


def style_text(preferences: Mapping[str, Any] | None) -> str:
    """A job's `style_preferences` as one line a prompt can carry ("" when there are none)."""
    return "; ".join(f"{key}: {value}" for key, value in (preferences or {}).items())
