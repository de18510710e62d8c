"""Python source with its AST and exact character spans: what rewrite rules read and edit.

Rules replace the text of a node's span and leave every other character alone, so the
model's comments, layout and unrelated code survive a rewrite untouched.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Edit:
    """Replace code[start:end] with `text` (start == end inserts)."""

    start: int
    end: int
    text: str
    rule: str
    line: int


class Source:
    """One version of the code: parsed once, with parents and byte→character offsets."""

    def __init__(self, code: str) -> None:
        self.code = code
        self.tree = ast.parse(code)
        self._lines = code.splitlines(keepends=True)
        self._starts = [0]
        for line in self._lines:
            self._starts.append(self._starts[-1] + len(line))
        self.parent: dict[ast.AST, ast.AST] = {}
        for node in ast.walk(self.tree):
            for child in ast.iter_child_nodes(node):
                self.parent[child] = node
        self.module_names = _module_bound_names(self.tree)
        # What rules compute once per class / function rather than once per node.
        self.kinds: dict[ast.ClassDef, str | None] = {}
        self.aliases: dict[ast.AST, set[str]] = {}

    def offset(self, lineno: int, col_bytes: int) -> int:
        """Character offset of an AST position (AST columns count UTF-8 bytes)."""
        line = self._lines[lineno - 1] if lineno - 1 < len(self._lines) else ""
        return self._starts[lineno - 1] + len(line.encode()[:col_bytes].decode(errors="ignore"))

    def span(self, node: ast.AST) -> tuple[int, int]:
        start = self.offset(node.lineno, node.col_offset)  # type: ignore[attr-defined]
        end = self.offset(node.end_lineno, node.end_col_offset)  # type: ignore[attr-defined]
        return start, end

    def text(self, node: ast.AST) -> str:
        start, end = self.span(node)
        return self.code[start:end]

    def replace(self, node: ast.AST, text: str, rule: str) -> Edit:
        start, end = self.span(node)
        return Edit(start, end, text, rule, node.lineno)  # type: ignore[attr-defined]

    def indent(self, node: ast.stmt) -> str:
        line = self._lines[node.lineno - 1]
        return line[: len(line) - len(line.lstrip())]

    def delete_statement(self, node: ast.stmt, rule: str) -> Edit:
        """Remove a whole statement (its lines); `pass` if it was the block's only one."""
        parent = self.parent.get(node)
        siblings = (
            next((block for block in _blocks(parent) if node in block), [node])
            if parent
            else [node]
        )
        if len(siblings) == 1:
            return self.replace(node, "pass", rule)
        start = self._starts[node.lineno - 1]
        end = self._starts[node.end_lineno] if node.end_lineno else len(self.code)
        return Edit(start, end, "", rule, node.lineno)

    def enclosing(self, node: ast.AST, kind: type[ast.AST]) -> ast.AST | None:
        while node in self.parent:
            node = self.parent[node]
            if isinstance(node, kind):
                return node
        return None

    def call_args(self, call: ast.Call, *, skip: Iterable[str] = ()) -> list[str]:
        """The call's arguments as source text (positional, then keywords not in `skip`)."""
        skipped = set(skip)
        parts = [self.text(arg) for arg in call.args]
        parts += [self.text(k) for k in call.keywords if k.arg not in skipped]
        return parts


def keyword(call: ast.Call, name: str) -> ast.keyword | None:
    return next((k for k in call.keywords if k.arg == name), None)


def func_name(call: ast.AST) -> str | None:
    """`Name` of a plain call `Name(...)`."""
    if isinstance(call, ast.Call) and isinstance(call.func, ast.Name):
        return call.func.id
    return None


def method_name(call: object) -> str | None:
    """`attr` of a method call `x.attr(...)`."""
    if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def is_self_path(node: ast.AST, *attrs: str) -> bool:
    """Whether `node` is exactly `self.<attrs[0]>.<attrs[1]>…`."""
    for attr in reversed(attrs):
        if not (isinstance(node, ast.Attribute) and node.attr == attr):
            return False
        node = node.value
    return isinstance(node, ast.Name) and node.id == "self"


def _blocks(node: ast.AST) -> Iterator[list[ast.stmt]]:
    for name in ("body", "orelse", "finalbody", "handlers"):
        block = getattr(node, name, None)
        if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
            yield block


def _module_bound_names(tree: ast.Module) -> frozenset[str]:
    """Names the code itself defines: those are never renamed."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            names.add(node.id)
        elif isinstance(node, ast.alias) and node.name != "*":
            names.add((node.asname or node.name).split(".")[0])
    return frozenset(names)
