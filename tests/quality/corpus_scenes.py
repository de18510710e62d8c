"""The API-rewrite corpus: tiny scenes written with manimgl / old Manim CE idioms.

Each file in corpus/ is one scene as an LLM might write it for another Manim; each
exercises one or two idioms of the rewrite table. Used by the rewrite test and by
`python -m bench rewrites` (first-attempt render share before and after rewriting).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from shared.scene_classes import scene_class_names

CORPUS = Path(__file__).parent / "corpus"


@dataclass(frozen=True)
class CorpusScene:
    name: str
    class_name: str
    code: str


def corpus_scenes() -> list[CorpusScene]:
    scenes = []
    for path in sorted(CORPUS.glob("*.py")):
        code = path.read_text()
        [class_name] = scene_class_names(code)
        scenes.append(CorpusScene(path.stem, class_name, code))
    return scenes
