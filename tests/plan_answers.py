"""A scene plan as an LLM answers it (the JSON the planner's prompt asks for), for the
scripted LLM server: one object and one beat unless a test asks for more."""

from __future__ import annotations

import json


def plan_json(
    narration: str = "Here a circle appears on the screen.",
    *,
    storyboard: str = "A circle appears.",
    technical_plan: str = "Circle, Create 0.5 s.",
) -> str:
    """A valid answer to "Task: scene plan" whose one beat says `narration`."""
    return json.dumps(
        {
            "storyboard": storyboard,
            "objects": [
                {"name": "shape", "manim": "Circle", "content": "a circle", "region": "center"}
            ],
            "technical_plan": technical_plan,
            "beats": [
                {"narration": narration, "visual": storyboard, "animations": ["Create(shape)"]}
            ],
        }
    )
