"""Cheap checks on generated code before anything renders it.

A render costs seconds; these cost milliseconds and catch the commonest failures of
LLM-written scenes: syntax errors, a missing scene class, names the installed Manim
does not have (often manimgl idioms), and imports outside what a scene needs.
"""

from __future__ import annotations

import ast
import builtins
import difflib
import functools

from shared.code_policy import SCENE_IMPORTS

ALLOWED_IMPORTS = frozenset({*SCENE_IMPORTS, "__future__"})
# Names of manimgl and older Manim versions that LLMs still write, with today's spelling.
RENAMED = {
    "ShowCreation": "Create",
    "TextMobject": "Text",
    "TexMobject": "MathTex",
    "TexText": "Tex",
    "OldTex": "MathTex",
    "CONFIG": "constructor arguments",
    "GraphScene": "Axes in a Scene",
    "ShowCreationThenDestruction": "ShowPassingFlash",
    "FadeInFrom": "FadeIn(mobject, shift=...)",
    "FadeOutAndShift": "FadeOut(mobject, shift=...)",
    "ApplyMethod": "mobject.animate",
}


@functools.cache
def manim_names() -> frozenset[str]:
    """Every name `from manim import *` brings in, for the installed Manim."""
    import manim

    return frozenset(name for name in dir(manim) if not name.startswith("_"))


def code_problems(
    code: str, *, class_name: str, known_names: frozenset[str] | None = None
) -> list[str]:
    """What is wrong with `code` as a scene module; empty when it looks renderable.

    `known_names` (normally `manim_names()`) enables the unknown-name check.
    """
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        return [f"SyntaxError: {exc.msg} (line {exc.lineno})"]
    classes = {node.name for node in tree.body if isinstance(node, ast.ClassDef)}
    problems = []
    if class_name not in classes:
        problems.append(
            f"the module must define class {class_name}(Scene); it defines {sorted(classes)}"
        )
    problems += import_problems(tree)
    if known_names is not None:
        problems += unknown_names(tree, known_names)
    return problems


def import_problems(tree: ast.Module) -> list[str]:
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            modules = [("." * node.level) + (node.module or "")]
        else:
            continue
        for module in modules:
            if module.split(".")[0] not in ALLOWED_IMPORTS:
                problems.append(
                    f"line {node.lineno}: import of {module!r} is not allowed "
                    f"(allowed: {', '.join(sorted(ALLOWED_IMPORTS - {'__future__'}))})"
                )
    return problems


def unknown_names(tree: ast.Module, known: frozenset[str]) -> list[str]:
    """Names read but defined nowhere: not by the module, Python or Manim.

    Scope-blind on purpose (a name bound anywhere counts as defined): no false alarms on
    valid code; a name used before it is bound is left for the render to catch.
    """
    bound = set(dir(builtins)) | set(known)
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            bound.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.alias):
            bound.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.ExceptHandler | ast.MatchAs | ast.MatchStar) and node.name:
            bound.add(node.name)
    problems: dict[str, str] = {}
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Name)
            and isinstance(node.ctx, ast.Load)
            and node.id not in bound
            and node.id not in problems
        ):
            problems[node.id] = f"line {node.lineno}: {node.id!r} {_hint(node.id, known)}"
    return list(problems.values())


def _hint(name: str, known: frozenset[str]) -> str:
    if name in RENAMED:
        return f"does not exist in this Manim (manimgl/old name); use {RENAMED[name]}"
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.75)
    suggestion = f"; did you mean {', '.join(close)}?" if close else ""
    return f"is not defined and is not a name the installed Manim has{suggestion}"


def check_report(problems: list[str]) -> str:
    """The message the model gets back when its code fails these checks."""
    return "The code was rejected before rendering:\n" + "\n".join(f"- {p}" for p in problems)
