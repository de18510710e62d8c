"""Scene code timed to its narration: beat durations into the prompt, beats into the code.

An LLM gets the plan's beats with the times they are spoken, and the helpers that wait
for them (`HOW_TO_TIME`, in its prompt). The built-in model's
templates are paced afterwards: its animation steps are spread over the beats, each
group starting when its beat is spoken, and the scene holds until the speech ends. The
helpers themselves (`shared.scene_timing`) are added by the renderer.
"""

from __future__ import annotations

import ast

import msgspec

from shared.events import Narration
from shared.plans import PlanBeat, ScenePlan

HOW_TO_TIME = (
    "The voice is recorded: make the animation fill it. In construct(), call "
    "self.wait_until_beat(i) right before the animations that go with beat i (0-based), "
    "and self.wait_until_end() after the last beat's animations (before a closing "
    "fade-out, which then follows the speech); BEATS (durations), BEAT_STARTS and SPEECH_SECONDS "
    "are defined for you. Do not define them, and do not add up times yourself."
)


def timed_plan(plan: ScenePlan, narration: Narration) -> ScenePlan:
    """A copy of `plan` whose beats carry when each is spoken, and when speech ends.

    The narrator speaks a plan's beats one for one, so they pair up; a plan without
    beats (or whose beats were spoken differently) takes the spoken beats as its own.
    """
    if not narration.beats:
        return plan
    spoken = narration.beats
    if len(plan.beats) == len(spoken):
        beats = [
            msgspec.structs.replace(
                mine, start_seconds=said.start_seconds, duration_seconds=said.duration_seconds
            )
            for mine, said in zip(plan.beats, spoken, strict=True)
        ]
    else:
        beats = [
            PlanBeat(
                narration=said.text,
                start_seconds=said.start_seconds,
                duration_seconds=said.duration_seconds,
            )
            for said in spoken
        ]
    return msgspec.structs.replace(plan, beats=beats, speech_seconds=narration.speech_seconds)


def paced(code: str, narration: Narration, *, class_name: str) -> str:
    """`code` with `self.wait_until_beat(i)` before its animation steps and a final hold.

    Steps are the top-level statements of `construct` that play something; beat i starts
    the step at position i·steps/beats. Code that already uses the helpers is unchanged.
    """
    if not narration.beats or "wait_until_beat" in code or "wait_until_end" in code:
        return code
    construct = _construct(code, class_name)
    if construct is None:
        return code
    body = construct.body
    # A closing fade-out clears the screen after the speech, not while it is still heard.
    closing = len(body) > 1 and fades_out(body[-1])
    steps = [node for node in (body[:-1] if closing else body) if _plays(node)]
    lines = code.splitlines()
    inserts: dict[int, int] = {}  # line index → beat
    for beat in range(1, len(narration.beats)):
        position = beat * len(steps) // len(narration.beats)
        if 0 < position < len(steps):
            inserts[steps[position].lineno - 1] = beat
    last = body[-1].lineno - 1 if closing else body[-1].end_lineno or body[-1].lineno
    indent = " " * body[0].col_offset
    lines.insert(last, f"{indent}self.wait_until_end()")
    for line_index in sorted(inserts, reverse=True):
        lines.insert(line_index, f"{indent}self.wait_until_beat({inserts[line_index]})")
    return "\n".join(lines) + "\n"


def _construct(code: str, class_name: str) -> ast.FunctionDef | None:
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return None
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == class_name:
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name == "construct" and item.body:
                    return item
    return None


def fades_out(node: ast.stmt) -> bool:
    """Whether a statement is `self.play(...)` of FadeOut animations only (a scene's end)."""
    call = node.value if isinstance(node, ast.Expr) else None
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)):
        return False
    return call.func.attr == "play" and bool(call.args) and all(map(_fade_out, call.args))


def _fade_out(argument: ast.expr) -> bool:
    """`FadeOut(x)`, also unpacked from a comprehension: `*[FadeOut(m) for m in ...]`."""
    if isinstance(argument, ast.Starred):
        argument = argument.value
    if isinstance(argument, ast.ListComp):
        argument = argument.elt
    return (
        isinstance(argument, ast.Call)
        and isinstance(argument.func, ast.Name)
        and argument.func.id == "FadeOut"
    )


def _plays(node: ast.stmt) -> bool:
    """Whether a statement calls self.play somewhere inside it (a loop of plays counts)."""
    return any(
        isinstance(call, ast.Call)
        and isinstance(call.func, ast.Attribute)
        and call.func.attr == "play"
        for call in ast.walk(node)
    )
