"""Retrieval quality on a labelled question set: recall@k (sparse only, offline).

A question counts as answered when one of its API names is among the top k hits: the
document of that name, a method of that class, or an example that demonstrates it.
"""

from __future__ import annotations

import json
from pathlib import Path

import msgspec

from services.coder.models.llm import DocHit
from services.coder.retrieval.index import DocsIndex


class Question(msgspec.Struct, frozen=True):
    question: str
    answers: list[str]


def load_questions(path: Path) -> list[Question]:
    return msgspec.convert(json.loads(path.read_text()), type=list[Question])


def answers(hit: DocHit, names: list[str]) -> bool:
    return any(
        hit.name == name or hit.name.startswith(f"{name}.") or name in hit.covers for name in names
    )


def missed(index: DocsIndex, questions: list[Question], *, k: int = 5) -> list[Question]:
    """The questions whose top-k hits answer none of their names."""
    return [
        q
        for q in questions
        if not any(answers(hit, q.answers) for hit in index.search_sync(q.question, limit=k))
    ]


def recall_at(index: DocsIndex, questions: list[Question], *, k: int = 5) -> float:
    return round(1 - len(missed(index, questions, k=k)) / len(questions), 4)
