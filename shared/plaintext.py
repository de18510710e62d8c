"""Reading plain text: sentences of prose and the tokens of a formula written in it.

The built-in planner finds key statements and formulas in a job's description with
these; the built-in coder splits narration into lines and turns formulas into LaTeX with
the same tokens, so both read text the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_EMPHASIS = re.compile(r"(?<![\w*])\*{1,2}(?=\S)([^*\n]+?)(?<=\S)\*{1,2}(?![\w*])")
_LIST_MARKER = re.compile(r"^\s*(?:\(?\d{1,2}[.)]|[-•*])\s+")
_INLINE_ITEM = re.compile(r"\s+(?=\(?\d{1,2}\)\s+[A-Z])")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(]?[A-Z0-9])")


def clean_text(text: str) -> str:
    """Drop markdown emphasis and collapse spaces so sentences split cleanly."""
    text = _EMPHASIS.sub(r"\1", text.replace("\r", ""))
    return "\n".join(re.sub(r"[ \t]+", " ", line).strip() for line in text.split("\n"))


def split_sentences(text: str) -> list[str]:
    """Split prose into sentences; list items ("1." / "2)") start a new sentence."""
    sentences: list[str] = []
    for line in clean_text(text).split("\n"):
        for chunk in _INLINE_ITEM.split(line):
            for part in _SENTENCE_END.split(_LIST_MARKER.sub("", chunk)):
                part = _LIST_MARKER.sub("", part).strip()
                if part:
                    sentences.append(part)
    return sentences


TOKEN = re.compile(
    r"(?P<space>\s+)"
    r"|(?P<num>\d+(?:\.\d+)?[⁰-⁹₀-₉²³¹]*)"
    r"|(?P<word>[A-Za-zα-ωΑ-Ω]+\d*(?:_\w+)?[⁰-⁹₀-₉²³¹⁻⁺]*)"
    r"|(?P<rel>!=|>=|<=|==|[=≠≤≥≈<>])"
    r"|(?P<op>[-+*/^·×±∓√∞∑∫∂|'!_−])"
    r"|(?P<open>[(\[{])"
    r"|(?P<close>[)\]}])"
    r"|(?P<other>.)"
)
FUNCTION_NAMES = frozenset(
    (
        "sin",
        "cos",
        "tan",
        "cot",
        "sec",
        "csc",
        "sinh",
        "cosh",
        "tanh",
        "log",
        "ln",
        "exp",
        "lim",
        "max",
        "min",
        "sqrt",
        "det",
        "gcd",
    )
)


@dataclass(frozen=True)
class Tok:
    kind: str
    text: str


def formula_tokens(line: str) -> list[Tok]:
    """The tokens of a line: numbers, words, relations, operators, brackets, spaces."""
    return [Tok(m.lastgroup or "other", m.group()) for m in TOKEN.finditer(line)]
