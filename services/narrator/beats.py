"""A scene's beats: the pieces of narration a voice speaks one at a time.

A beat is the unit of timing the coder and renderer align to, and the unit a subtitle
cue shows. A plan written beat by beat (`ScenePlan.beats`) is spoken exactly so, beat i
of the plan being beat i of the speech, so the coder can pair each beat's animations
with its timing. Narration without beats (a render-only job's text) is cut into whole
sentences: abbreviations and decimals do not end one, and a fragment of a couple of
words joins the sentence before it.
"""

from __future__ import annotations

import re

from shared.plans import MAX_BEAT_CHARS, ScenePlan

MIN_BEAT_WORDS = 3
_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])")
_ABBREVIATIONS = re.compile(r"\b(?:e\.g|i\.e|etc|vs|Dr|Mr|Mrs|Ms|Prof|Fig|approx|cf)\.$")
_CLAUSE = re.compile(r"(?<=[,;:])\s+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def plan_beats(plan: ScenePlan) -> list[str]:
    """What the narrator speaks for a plan: its own beats when it has them, else sentences."""
    if not plan.beats:
        return split_beats(plan.narration)
    spoken = [_spoken(beat.narration) for beat in plan.beats]
    return [text for text in spoken if text]


def _spoken(text: str) -> str:
    return " ".join(_CONTROL.sub(" ", text).split())


def split_beats(narration: str) -> list[str]:
    """The narration's sentences, in order; empty for blank narration.

    Control characters (an LLM's stray NUL) are not speech, and every voice engine
    refuses them: they become spaces.
    """
    text = _spoken(narration)
    if not text:
        return []
    sentences: list[str] = []
    for part in _END.split(text):
        if sentences and _ABBREVIATIONS.search(sentences[-1]):
            sentences[-1] = f"{sentences[-1]} {part}"
        else:
            sentences.append(part)
    merged: list[str] = []
    for sentence in sentences:
        if merged and len(sentence.split()) < MIN_BEAT_WORDS:
            merged[-1] = f"{merged[-1]} {sentence}"
        else:
            merged.append(sentence)
    return [piece for sentence in merged for piece in _fit(sentence)]


def _fit(sentence: str) -> list[str]:
    """Cut an over-long sentence at clause breaks into pieces of at most MAX_BEAT_CHARS
    (a longer one would not fit a subtitle)."""
    if len(sentence) <= MAX_BEAT_CHARS:
        return [sentence]
    pieces: list[str] = []
    for clause in _CLAUSE.split(sentence):
        if pieces and len(pieces[-1]) + 1 + len(clause) <= MAX_BEAT_CHARS:
            pieces[-1] = f"{pieces[-1]} {clause}"
        else:
            pieces.append(clause)
    return pieces
