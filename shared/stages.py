"""The job stages of requirement 2, their percentages and the words shown to people."""

from __future__ import annotations

from typing import NamedTuple


class Stage(NamedTuple):
    name: str
    percentage: float
    description: str


STAGES: tuple[Stage, ...] = (
    Stage("queued", 0, "Waiting for a planner"),
    Stage("initializing", 5, "Initializing video generation"),
    Stage("planning", 15, "Creating the scene outline"),
    Stage(
        "scenario_creation",
        30,
        "Writing each scene's storyboard, technical plan and narration, and voicing it",
    ),
    Stage("code_generation", 50, "Writing Manim code for each scene"),
    Stage("rendering", 80, "Rendering scenes"),
    Stage("combining", 90, "Combining scenes into one video"),
    Stage("storage", 95, "Storing the video and thumbnails"),
    Stage("completed", 100, "Video generation completed"),
)

BY_NAME: dict[str, Stage] = {stage.name: stage for stage in STAGES}
ORDER: dict[str, int] = {stage.name: index for index, stage in enumerate(STAGES)}


def percentage_within(stage: str, fraction: float) -> float:
    """Progress part-way through a stage: between its own percentage and the next one's."""
    index = ORDER[stage]
    low = STAGES[index].percentage
    high = STAGES[min(index + 1, len(STAGES) - 1)].percentage
    return round(low + (high - low) * min(max(fraction, 0.0), 1.0), 2)
