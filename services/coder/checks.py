"""Cheap checks on generated code before anything renders it."""

from __future__ import annotations

import ast


def code_problems(code: str, *, class_name: str) -> list[str]:
    """What is wrong with `code` as a scene module; empty when it looks renderable."""
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        return [f"SyntaxError: {exc.msg} (line {exc.lineno})"]
    classes = {node.name for node in tree.body if isinstance(node, ast.ClassDef)}
    if class_name not in classes:
        return [f"the module must define class {class_name}(Scene); it defines {sorted(classes)}"]
    return []
