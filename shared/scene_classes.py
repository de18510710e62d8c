"""Which Manim scene classes a file defines, in source order, without running it.

Render-only jobs take a client's file and render one named scene or all of them; the
gateway needs the list before anything runs (the code is untrusted), so it is read from
the AST: a top-level class is a scene when one of its bases is a Manim scene class (any
name ending in ``Scene``) or a scene class defined earlier in the same file.
"""

from __future__ import annotations

import ast


def scene_class_names(code: str) -> list[str]:
    """Scene classes of ``code`` in the order they are defined; raise SyntaxError."""
    tree = ast.parse(code)
    scenes: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and any(
            _is_scene_base(base, scenes) for base in node.bases
        ):
            scenes.append(node.name)
    return scenes


def _is_scene_base(base: ast.expr, known: list[str]) -> bool:
    name = base.attr if isinstance(base, ast.Attribute) else getattr(base, "id", "")
    return name.endswith("Scene") or name in known
