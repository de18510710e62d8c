"""What the planner hands the coder: the outline of a video and each scene's plan.

The planner writes these (services/planner/models), the coder reads them
(services/coder/models), the narrator speaks a plan's beats and the renderer reads its
narration for subtitles, so the types live here, in one place.

A scene plan has three parts, as the research pipelines that make watchable Manim videos
ask of their planners: a visual storyboard (what is where on screen, inside the safe
area), a technical plan (which Manim objects and animations make it) and the narration,
beat by beat, each beat paired with what the viewer sees while it is spoken.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

# How long a video the client asks for (`target_minutes`); the planner turns it into a
# scene count and depth (services/planner/budget.py), the gateway checks the range.
MIN_TARGET_MINUTES = 0.5
MAX_TARGET_MINUTES = 10.0
DEFAULT_TARGET_MINUTES = 1.5

# The frame Manim draws (units), and the margins every plan and prompt keeps to.
FRAME_WIDTH = 14.2
FRAME_HEIGHT = 8.0
SAFE_MARGIN = 0.5  # nothing closer than this to a frame edge
MIN_SPACING = 0.3  # between any two objects, edge to edge

# Where an object sits on screen: a coarse grid a storyboard names and a layout can check.
REGIONS = (
    "top",
    "top_left",
    "top_right",
    "left",
    "center",
    "right",
    "bottom_left",
    "bottom",
    "bottom_right",
)

# A beat is one spoken sentence or two: one subtitle cue, so it must fit one.
MAX_BEAT_CHARS = 240


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


class PlanObject(msgspec.Struct, kw_only=True):
    """One thing on screen (storyboard and technical plan): a name the beats refer to."""

    name: str  # the variable the code should use: "title", "triangle", "formula"
    manim: str  # the Manim class that draws it: Text, MathTex, Polygon, Axes, …
    content: str = ""  # the text, the formula, or what the drawing shows
    region: str = "center"  # one of REGIONS
    placement: str = ""  # relative placement: "to_edge(UP, buff=0.5)", "next_to(title, DOWN)"


class PlanBeat(msgspec.Struct, kw_only=True):
    """One spoken beat and what happens on screen while it is spoken."""

    narration: str
    visual: str = ""  # what the viewer sees change
    animations: list[str] = []  # Manim animations on the objects: "Write(title)", "Create(tri)"
    # When it is spoken (filled in by the coder from the narrator's measurements, for the
    # model that writes the code; the planner leaves them empty).
    start_seconds: float | None = None
    duration_seconds: float | None = None


class ScenePlan(msgspec.Struct, kw_only=True):
    """A scene written out (scenario_creation stage): what is seen, how, and what is said.

    With `beats`, they are the narration's one source of truth: `narration` is always
    their text joined (set here, on every construction and decode), and the narrator
    speaks exactly these beats, so beat i of the plan is beat i of the speech.
    """

    number: int
    title: str
    kind: str
    class_name: str
    storyboard: str
    technical_plan: str
    narration: str = ""
    objects: list[PlanObject] = []
    beats: list[PlanBeat] = []
    statements: list[str] = []
    formulas: list[str] = []
    diagram: str | None = None  # a built-in drawing: triangle | circle | axes_plot | …
    diagram_variant: str | None = None  # which drawing of that kind (e.g. "kite")
    style: str = ""  # the job's style preferences, as `style_text` spells them for a prompt
    speech_seconds: float | None = None  # how long the beats take to speak, once measured

    def __post_init__(self) -> None:
        if self.beats:
            self.narration = " ".join(beat.narration.strip() for beat in self.beats)


def style_text(preferences: Mapping[str, Any] | None) -> str:
    """A job's `style_preferences` as one line a prompt can carry ("" when there are none)."""
    return "; ".join(f"{key}: {value}" for key, value in (preferences or {}).items())
