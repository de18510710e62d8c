"""Which Manim renderer draws a scene, and why (the ``RENDERER`` setting).

``cairo`` and ``opengl`` are used for every scene. ``auto`` looks at the scene's code:
3D scenes (a ``ThreeDScene``) are where Cairo is slow and OpenGL could pay, so they get
:data:`AUTO_3D_RENDERER`, every other scene Cairo (faster for 2D here). Measured on this
CPU-only machine (``python -m bench opengl``, services/renderer/README.md): OpenGL renders
3D scenes 1.5-3x faster, but its frames are not Cairo's (Manim's OpenGL camera turns
theta by 90°, has no 3D shading and draws text bolder), so code written for Cairo would
come out looking wrong: ``auto`` keeps 3D scenes on Cairo and says why. The choice and its
reason travel in ``scene.rendered`` to ``/scenes``.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from shared.settings import RENDERER_MODES

THREE_D_SCENES = frozenset({"ThreeDScene", "SpecialThreeDScene"})
# What `auto` gives a 3D scene; "opengl" once its frames match Cairo's (see module doc).
AUTO_3D_RENDERER = "cairo"
AUTO_3D_REASON = (
    "3D scene: Cairo, because OpenGL's frames differ from Cairo's here (camera turned by"
    " 90°, no 3D shading), although it renders 3D 1.5-3x faster"
)
AUTO_2D_REASON = "2D scene: Cairo (faster than OpenGL for 2D on this machine)"


@dataclass(frozen=True)
class RendererChoice:
    renderer: str  # "cairo" | "opengl"
    reason: str


def choose_renderer(mode: str, code: str, class_name: str) -> RendererChoice:
    """The renderer for one scene under ``RENDERER=mode``, with the reason shown to users."""
    if mode not in RENDERER_MODES:
        raise ValueError(f"unknown renderer mode {mode!r}; expected one of {RENDERER_MODES}")
    if mode != "auto":
        return RendererChoice(mode, f"RENDERER={mode}")
    if is_3d_scene(code, class_name):
        return RendererChoice(AUTO_3D_RENDERER, AUTO_3D_REASON)
    return RendererChoice("cairo", AUTO_2D_REASON)


def is_3d_scene(code: str, class_name: str) -> bool:
    """Whether ``class_name`` in ``code`` derives from Manim's ThreeDScene.

    Read from the AST, never by running the code: bases are followed through the file's
    own classes (``class Base(ThreeDScene)`` … ``class Clip(Base)``) and import aliases
    (``from manim import ThreeDScene as T``); ``manim.ThreeDScene`` counts too.
    """
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return False
    aliases = {
        alias.asname: alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
        if alias.asname
    }
    bases = {
        node.name: [_name(base, aliases) for base in node.bases]
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef)
    }
    seen: set[str] = set()
    todo = [class_name]
    while todo:
        name = todo.pop()
        if name in THREE_D_SCENES:
            return True
        if name not in seen:
            seen.add(name)
            todo.extend(bases.get(name, []))
    return False


def _name(base: ast.expr, aliases: dict[str, str]) -> str:
    """``ThreeDScene``, ``manim.ThreeDScene`` and an alias's target all name the class."""
    if isinstance(base, ast.Name):
        return aliases.get(base.id, base.id)
    if isinstance(base, ast.Attribute):
        return base.attr
    return ""
