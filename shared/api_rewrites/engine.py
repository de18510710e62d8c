"""Apply the rewrite table to code: passes of non-overlapping span edits until nothing changes.

Edits of one pass never overlap (the outer one wins); an idiom nested inside a rewritten
one is found again in the next pass. A pass whose result does not parse is replayed edit
by edit, keeping only the edits that leave valid Python, so a rule can never make code
worse than the model wrote it.
"""

from __future__ import annotations

import ast
import bisect
import functools

import msgspec

import shared.api_rewrites.installed as installed
from shared.api_rewrites.rules import RULES, Rule
from shared.api_rewrites.source import Edit, Source
from shared.events import ApiRewrite

MAX_PASSES = 6
MAX_EDITS_TRIED_ALONE = 50  # bounds the work a client's file can cause (fix_api)
MAX_RECORDED_CHARS = 400


@functools.cache
def active_rules() -> tuple[Rule, ...]:
    """The rules whose output the installed Manim can run."""
    return tuple(rule for rule in RULES if all(installed.has(r) for r in rule.requires))


def rewrite_api(code: str, rules: tuple[Rule, ...] | None = None) -> tuple[str, list[ApiRewrite]]:
    """`code` in the installed Manim's API, and every rewrite made (empty: unchanged).

    Code that does not parse is returned as it is: the checks report the syntax error.
    """
    rules = active_rules() if rules is None else rules
    done: list[ApiRewrite] = []
    for _ in range(MAX_PASSES):
        try:
            source = Source(code)
        except (SyntaxError, ValueError):
            break
        edits = _choose(_find(source, rules))
        code_after, kept = _apply_valid(code, edits)
        if not kept:
            break
        # Lines are reported in the final code: what the model and /scenes show.
        done = _moved(done, kept, code) + _records(kept, code)
        code = code_after
    return code, done


def _find(source: Source, rules: tuple[Rule, ...]) -> list[Edit]:
    edits = []
    for node in ast.walk(source.tree):
        for rule in rules:
            if isinstance(node, rule.nodes):
                edits += [
                    e for e in rule.find(node, source) if source.code[e.start : e.end] != e.text
                ]
    return edits


def _choose(edits: list[Edit]) -> list[Edit]:
    """Non-overlapping edits, outermost first."""
    chosen: list[Edit] = []
    end = -1
    for edit in sorted(edits, key=lambda e: (e.start, -(e.end - e.start))):
        if edit.start >= end and not (chosen and edit.start == chosen[-1].start == edit.end):
            chosen.append(edit)
            end = edit.end
    return chosen


def _apply(code: str, edits: list[Edit]) -> str:
    for edit in sorted(edits, key=lambda e: e.start, reverse=True):
        code = code[: edit.start] + edit.text + code[edit.end :]
    return code


def _apply_valid(code: str, edits: list[Edit]) -> tuple[str, list[Edit]]:
    """The code after `edits` (sorted), or after those of them that keep it valid Python."""
    if not edits:
        return code, []
    candidate = _apply(code, edits)
    if _parses(candidate):
        return candidate, edits
    if len(edits) > MAX_EDITS_TRIED_ALONE:
        return code, []  # not worth a parse per edit: leave this pass out
    kept = [e for e in edits if _parses(_apply(code, [e]))]
    candidate = _apply(code, kept)
    return (candidate, kept) if kept and _parses(candidate) else (code, [])


def _parses(code: str) -> bool:
    try:
        ast.parse(code)
    except (SyntaxError, ValueError):
        return False
    return True


def _line_shifts(edits: list[Edit], code: str) -> tuple[list[int], list[int]]:
    """Edit lines in order, and the lines added (or removed) by all edits before each."""
    lines, before, total = [], [], 0
    for edit in edits:  # sorted by position, non-overlapping
        lines.append(edit.line)
        before.append(total)
        total += edit.text.count("\n") - code.count("\n", edit.start, edit.end)
    return lines, [*before, total]


def _moved(records: list[ApiRewrite], edits: list[Edit], code: str) -> list[ApiRewrite]:
    """Earlier records with their lines shifted by what this pass's edits above them did."""
    lines, shifts = _line_shifts(edits, code)
    return [
        msgspec.structs.replace(r, line=r.line + shifts[bisect.bisect_left(lines, r.line)])
        for r in records
    ]


def _records(edits: list[Edit], code: str) -> list[ApiRewrite]:
    """This pass's edits as records, at their lines in the code after the pass."""
    _, shifts = _line_shifts(edits, code)
    return [
        msgspec.structs.replace(_record(code, edit), line=edit.line + shift)
        for edit, shift in zip(edits, shifts, strict=False)
    ]


def _record(code: str, edit: Edit) -> ApiRewrite:
    return ApiRewrite(
        line=edit.line,
        before=_short(code[edit.start : edit.end]),
        after=_short(edit.text),
        rule=edit.rule,
    )


def _short(text: str) -> str:
    text = text.strip()
    return text if len(text) <= MAX_RECORDED_CHARS else text[: MAX_RECORDED_CHARS - 1] + "…"


def rewrites_report(rewrites: list[ApiRewrite]) -> str:
    """What a fix request says about the rewrites (empty when there were none)."""
    if not rewrites:
        return ""
    lines = [
        "Before checking, these manimgl / old-Manim idioms were rewritten automatically "
        "into this Manim's API (keep the new form):"
    ]
    lines += [f"- line {r.line}: {r.before} -> {r.after}" for r in rewrites]
    return "\n".join(lines)
