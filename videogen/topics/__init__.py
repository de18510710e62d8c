"""The TheoremExplainBench "easy" topics (MIT, see LICENSE here): real demo and test input."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

FOLDER = Path(__file__).parent
SUBJECTS = ("math", "physics", "comp_sci", "chemistry")


@dataclass(frozen=True)
class Topic:
    subject: str
    topic: str
    context: str


def load_topics(limit_context: int = 2000) -> list[Topic]:
    """All 80 topics; contexts cut to the API's limit (at a sentence end where possible)."""
    topics = []
    for subject in SUBJECTS:
        for item in json.loads((FOLDER / f"{subject}.json").read_text()):
            topics.append(Topic(subject, item["theorem"], _cut(item["description"], limit_context)))
    return topics


def find_topic(name: str) -> Topic:
    """A topic by (case-insensitive) name or unique prefix."""
    wanted = name.strip().lower()
    matches = [t for t in load_topics() if t.topic.lower().startswith(wanted)]
    exact = [t for t in matches if t.topic.lower() == wanted]
    if exact or len(matches) == 1:
        return (exact or matches)[0]
    raise LookupError(f"no single built-in topic matches {name!r}")


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    head = text[:limit]
    end = head.rfind(". ")
    return head[: end + 1] if end > limit // 2 else head
