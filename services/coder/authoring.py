"""Writing a scene's code with any `SceneCoder`: checked before render, repaired on failure.

A draft that fails the cheap checks goes straight back to the model with the reasons,
a bounded number of times; a render failure goes back with the error, the failing
line and the traceback. When the model cannot make a scene work, the built-in model's
version of that scene stands in (the caller decides whether that is allowed).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from services.coder.api_fixes import ApiFixes
from services.coder.checks import check_report
from services.coder.models import SceneCoder
from services.coder.models.builtin import BuiltinCoder
from shared.events import RenderError
from shared.plans import ScenePlan

TRACEBACK_CHARS = 3000
LAYOUT_FINDINGS = 12
_BOX = re.compile("[\u2500-\u257f\u2770-\u2775]")  # box drawing, and rich's ❱ marker

Check = Callable[[str], list[str]]


class CodeRejected(Exception):
    """The model's code still failed the checks after every allowed re-ask."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


async def write_checked(
    model: SceneCoder, plan: ScenePlan, *, check: Check, rounds: int, fix: ApiFixes
) -> str:
    """The model's code for `plan`, re-asked with the reasons while the checks fail."""
    code = await model.write_code(plan)
    return await _until_clean(model, plan, code, check=check, rounds=rounds, fix=fix)


async def repair_checked(
    model: SceneCoder,
    plan: ScenePlan,
    *,
    code: str,
    error: str,
    check: Check,
    rounds: int,
    fix: ApiFixes,
) -> str:
    """The model's fix of `code` for `error`, held to the same checks."""
    fixed = await model.repair_code(plan, code=code, error=error)
    return await _until_clean(model, plan, fixed, check=check, rounds=rounds, fix=fix)


async def _until_clean(
    model: SceneCoder, plan: ScenePlan, code: str, *, check: Check, rounds: int, fix: ApiFixes
) -> str:
    code = fix(code)  # every draft is rewritten into this Manim's API before its checks
    for _ in range(rounds):
        problems = check(code)
        if not problems:
            return code
        error = "\n\n".join(filter(None, [check_report(problems), fix.report()]))
        code = fix(await model.repair_code(plan, code=code, error=error))
    if problems := check(code):
        raise CodeRejected(problems)
    return code


def render_error_report(error: RenderError, code: str) -> str:
    """What a fix request says about a failed render: error, failing line, traceback."""
    lines = [f"The render failed ({error.kind}): {error.message}"]
    source = code.splitlines()
    if error.line is not None and 1 <= error.line <= len(source):
        lines.append(f"Failing line {error.line}: {source[error.line - 1].strip()}")
    if error.code_excerpt:
        lines += ["Code around it:", error.code_excerpt]
    if error.traceback:
        lines += ["Traceback (last part):", plain_traceback(error.traceback)[-TRACEBACK_CHARS:]]
    return "\n".join(lines)


def layout_report(error: RenderError, code: str) -> str:
    """What a layout repair request says: each finding's kind, objects and line.

    The findings come from the renderer's layout check (computed there, bounded); they
    are cut again here so a prompt never grows with them.
    """
    lines = ["The scene rendered, but the layout check found problems a viewer would see:"]
    source = code.splitlines()
    for finding in error.findings[:LAYOUT_FINDINGS]:
        where = ""
        if finding.line is not None and 1 <= finding.line <= len(source):
            where = f" (line {finding.line}: {source[finding.line - 1].strip()[:120]})"
        objects = ", ".join(finding.objects[:6])[:200]
        lines.append(f"- {finding.kind}: {objects}{where}: {finding.message[:300]}")
    lines.append(
        "Move, scale or fade out the objects named so that every text and formula stays "
        "inside the frame, no two texts overlap, text is at least font size 18, and "
        "(unless this is the video's last scene) the scene ends with what it shows faded out."
    )
    return "\n".join(lines)


def plain_traceback(traceback: str) -> str:
    """A traceback without rich's box drawing and blank lines: the same facts, fewer tokens."""
    text = _BOX.sub(" ", traceback)
    return "\n".join(line.rstrip() for line in text.splitlines() if line.strip())


async def fallback_code(plan: ScenePlan) -> str:
    """The built-in model's code for the scene. It is deterministic, so a failed attempt
    whose code equals this one is recognised as the fallback itself."""
    return await BuiltinCoder().write_code(plan)
