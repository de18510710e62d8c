"""Narration text → beats: the sentences a voice speaks one at a time.

A beat is the unit of timing the coder and renderer align to, and the unit a subtitle
cue shows, so it must be a whole spoken sentence: abbreviations and decimals do not end
one, and a fragment of a couple of words joins the sentence before it.
"""

from __future__ import annotations

import re

MIN_BEAT_WORDS = 3
MAX_BEAT_CHARS = 240  # a longer sentence is cut at a clause break: a subtitle must fit it
_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])")
_ABBREVIATIONS = re.compile(r"\b(?:e\.g|i\.e|etc|vs|Dr|Mr|Mrs|Ms|Prof|Fig|approx|cf)\.$")
_CLAUSE = re.compile(r"(?<=[,;:])\s+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def split_beats(narration: str) -> list[str]:
    """The narration's sentences, in order; empty for blank narration.

    Control characters (an LLM's stray NUL) are not speech, and every voice engine
    refuses them: they become spaces.
    """
    text = " ".join(_CONTROL.sub(" ", narration).split())
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
    """Cut an over-long sentence at clause breaks into pieces of at most MAX_BEAT_CHARS."""
    if len(sentence) <= MAX_BEAT_CHARS:
        return [sentence]
    pieces: list[str] = []
    for clause in _CLAUSE.split(sentence):
        if pieces and len(pieces[-1]) + 1 + len(clause) <= MAX_BEAT_CHARS:
            pieces[-1] = f"{pieces[-1]} {clause}"
        else:
            pieces.append(clause)
    return pieces
