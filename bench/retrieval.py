"""Retrieval benchmark: index build time, open-from-cache time, query latency, recall@5.

`python -m bench.retrieval` prints the JSON of `run()`. Sparse (BM25) only, offline,
Qdrant in-process, over the installed Manim's docs and the labelled question set.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from services.coder.retrieval.evaluate import load_questions, recall_at
from services.coder.retrieval.index import open_index

QUESTIONS = Path(__file__).parents[1] / "tests" / "data" / "rag_questions.json"
ROUNDS = 5


def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="videogen-bench-rag-") as folder:
        return asyncio.run(_measure(Path(folder)))


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000, 2)


async def _measure(cache: Path) -> dict[str, Any]:
    started = time.perf_counter()
    index = await open_index(cache)  # imports Manim, walks it, fits BM25, fills Qdrant
    build_seconds = time.perf_counter() - started
    index.close()
    started = time.perf_counter()
    index = await open_index(cache)
    cached_seconds = time.perf_counter() - started
    questions = load_questions(QUESTIONS)
    single: list[float] = []
    for _ in range(ROUNDS):
        for question in questions:
            began = time.perf_counter()
            index.search_sync(question.question, limit=5)
            single.append(time.perf_counter() - began)
    fused: list[float] = []
    for start in range(0, len(questions) - 3, 4):  # the coder asks up to 4 queries at once
        began = time.perf_counter()
        await index.search([q.question for q in questions[start : start + 4]], limit=5)
        fused.append(time.perf_counter() - began)
    documents = index.client.count(index.collection).count
    result = {
        "documents": documents,
        "questions": len(questions),
        "recall_at_5": recall_at(index, questions, k=5),
        "index_build_seconds": round(build_seconds, 2),
        "index_open_from_cache_seconds": round(cached_seconds, 2),
        "query_ms_p50": _percentile(single, 0.5),
        "query_ms_p99": _percentile(single, 0.99),
        "four_query_search_ms_p50": _percentile(fused, 0.5),
        "four_query_search_ms_p99": _percentile(fused, 0.99),
        "mode": "sparse BM25 only, qdrant in-process (:memory:), loaded from the disk cache",
    }
    index.close()
    return result


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
