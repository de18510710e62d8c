"""A scene plan as the three sections of the code prompt: storyboard, technical plan, beats.

The planner's plan is structured (objects with regions and placements, beats with their
animations); the model that writes the code reads it as text, in the order a Manim
author works: where things go, what they are made of, what happens while each beat is
spoken. Plans without those parts (older ones) still read as their prose.
"""

from __future__ import annotations

from services.coder.timing import HOW_TO_TIME
from shared.plans import FRAME_HEIGHT, FRAME_WIDTH, MIN_SPACING, SAFE_MARGIN, ScenePlan

SAFE_AREA = (
    f"Frame {FRAME_WIDTH} x {FRAME_HEIGHT} units, centre (0, 0): keep every object at least "
    f"{SAFE_MARGIN} units inside each edge and {MIN_SPACING} units from the others."
)


def storyboard_section(plan: ScenePlan) -> str:
    """What the viewer sees, and where each object sits."""
    lines = [plan.storyboard.strip() or "(no storyboard given)", SAFE_AREA]
    if plan.objects:
        lines.append("Layout:")
        lines += [
            f"- {o.name}: {o.region.replace('_', ' ')}"
            + (f", {o.placement}" if o.placement else "")
            for o in plan.objects
        ]
    return "\n".join(lines)


def technical_section(plan: ScenePlan) -> str:
    """The Manim objects to build (their names are the beats' names), then the notes."""
    lines = []
    if plan.objects:
        lines.append("Objects (use these variable names):")
        lines += [
            f"- {o.name} = {o.manim}" + (f": {o.content}" if o.content else "")
            for o in plan.objects
        ]
    lines.append(plan.technical_plan.strip() or "(no further notes)")
    return "\n".join(lines)


def beats_section(plan: ScenePlan) -> str:
    """Each beat's words (for timing only), what changes on screen and the animations."""
    if not plan.beats:
        return plan.narration.strip() or "(silent scene)"
    lines = []
    for index, beat in enumerate(plan.beats):
        when = ""
        if beat.start_seconds is not None and beat.duration_seconds is not None:
            when = f" at {beat.start_seconds:.1f} s for {beat.duration_seconds:.1f} s"
        lines.append(f"Beat {index}{when}: “{beat.narration}”")
        if beat.visual:
            lines.append(f"  on screen: {beat.visual}")
        if beat.animations:
            lines.append(f"  animations: {'; '.join(beat.animations)}")
    if plan.speech_seconds is not None:
        lines += [f"Speech ends at {plan.speech_seconds:.1f} s.", HOW_TO_TIME]
    return "\n".join(lines)
