"""BM25-style sparse vectors computed here: no model, no download, stable across processes.

Tokens are lower-cased words with identifiers split (`get_axis_labels` → get, axis,
labels; `MathTex` → math, tex, mathtex), lightly stemmed, and hashed with CRC32 into a
fixed index space. Documents carry BM25 term weights; queries carry IDF weights, so
Qdrant's sparse dot product is the BM25 score.
"""

from __future__ import annotations

import math
import re
import zlib
from collections import Counter
from collections.abc import Iterable

import msgspec

DIMENSIONS = 1 << 20
K1 = 1.2
B = 0.75

_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*|\d+")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
_STOP = frozenset(
    (
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "can",
        "do",
        "for",
        "from",
        "how",
        "i",
        "in",
        "into",
        "is",
        "it",
        "its",
        "me",
        "of",
        "on",
        "or",
        "so",
        "that",
        "the",
        "then",
        "this",
        "to",
        "use",
        "used",
        "using",
        "want",
        "with",
        "which",
        "will",
        "show",
        "make",
        "draw",
    )
)


class SparseVector(msgspec.Struct, frozen=True):
    indices: list[int]
    values: list[float]


_SPELLING = {"colour": "color", "grey": "gray", "centre": "center"}


def _stem(word: str) -> str:
    word = _SPELLING.get(word, word)
    for suffix in ("ing", "es", "ed", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def tokens(text: str) -> list[str]:
    """Search terms of `text`: words, identifier parts and whole identifiers."""
    out: list[str] = []
    for word in _WORD.findall(text.replace("_", " ")):
        parts = [p.lower() for p in _CAMEL.findall(word)]
        whole = word.lower()
        for term in {whole, *parts} if len(parts) > 1 else {whole}:
            if term not in _STOP and len(term) > 1:
                out.append(_stem(term))
    return out


def term_index(term: str) -> int:
    return zlib.crc32(term.encode()) % DIMENSIONS


class Bm25:
    """Document frequencies of a corpus; turns documents and queries into sparse vectors."""

    def __init__(self, document_frequency: dict[int, int], *, count: int, mean_length: float):
        self.document_frequency = document_frequency
        self.count = count
        self.mean_length = mean_length

    @classmethod
    def fit(cls, texts: Iterable[str]) -> Bm25:
        frequency: Counter[int] = Counter()
        lengths: list[int] = []
        for text in texts:
            terms = tokens(text)
            lengths.append(len(terms))
            frequency.update({term_index(t) for t in terms})
        count = max(len(lengths), 1)
        return cls(dict(frequency), count=count, mean_length=sum(lengths) / count or 1.0)

    def idf(self, index: int) -> float:
        n = self.document_frequency.get(index, 0)
        return math.log(1 + (self.count - n + 0.5) / (n + 0.5))

    def document(self, text: str) -> SparseVector:
        counts = Counter(term_index(t) for t in tokens(text))
        length = sum(counts.values())
        norm = K1 * (1 - B + B * length / self.mean_length)
        weights = {i: tf * (K1 + 1) / (tf + norm) for i, tf in counts.items()}
        return _vector(weights)

    def query(self, text: str) -> SparseVector:
        weights = {i: self.idf(i) for i in {term_index(t) for t in tokens(text)}}
        return _vector({i: w for i, w in weights.items() if w > 0})


def _vector(weights: dict[int, float]) -> SparseVector:
    indices = sorted(weights)
    return SparseVector(indices=indices, values=[round(weights[i], 5) for i in indices])
