"""Retrieval over the installed Manim's docs: corpus, cache, and recall on labelled questions."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.coder.retrieval.corpus import build_corpus
from services.coder.retrieval.evaluate import load_questions, missed, recall_at
from services.coder.retrieval.examples import EXAMPLES
from services.coder.retrieval.index import DocsIndex, open_index
from services.coder.retrieval.sparse import tokens

QUESTIONS = Path(__file__).parents[1] / "data" / "rag_questions.json"


@pytest.fixture(scope="session")
def rag_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("rag")


@pytest.fixture(scope="session")
async def docs_index(rag_cache: Path) -> DocsIndex:
    return await open_index(rag_cache)


def test_sparse_tokens_split_identifiers():
    assert {"math", "tex", "mathtex"} <= set(tokens("MathTex"))
    assert {"axi", "label"} <= set(tokens("get_axis_labels"))  # stemmed
    assert "the" not in tokens("draw the arrow")


def test_retrieval_examples_use_names_the_installed_manim_has():
    documents = {d.name for d in build_corpus()}
    for title, names, _ in EXAMPLES:
        for name in names:
            assert name in documents, f"example {title!r} names {name!r}"


def test_retrieval_recall_at_5_on_labelled_questions(docs_index: DocsIndex):
    questions = load_questions(QUESTIONS)
    assert len(questions) >= 40
    score = recall_at(docs_index, questions, k=5)
    assert score >= 0.85, [q.question for q in missed(docs_index, questions)]


async def test_retrieval_fuses_several_queries(docs_index: DocsIndex):
    hits = await docs_index.search(["write a matrix", "arrow between two points"], limit=6)
    names = [h.name for h in hits]
    assert "example: write a matrix" in names and "example: arrow between two points" in names


async def test_retrieval_index_is_cached_by_manim_version(docs_index: DocsIndex, tmp_path: Path):
    first = await open_index(tmp_path)
    [cache] = list(tmp_path.glob("manim-*/corpus.msgpack"))
    built_at = cache.stat().st_mtime_ns
    second = await open_index(tmp_path)
    assert cache.stat().st_mtime_ns == built_at
    [hit] = first.search_sync("Circle", limit=1)
    assert second.search_sync("Circle", limit=1) == [hit]
    first.close()
    second.close()


async def test_retrieval_fuses_dense_vectors_from_an_embeddings_endpoint(
    docs_index: DocsIndex, rag_cache: Path
):
    from shared.llm.providers import LLMClients
    from shared.settings import load_settings
    from tests.llm_server import ScriptedLLM

    llm = ScriptedLLM().start()
    try:
        clients = LLMClients(load_settings({}, openai_base_url=llm.base_url))
        index = await open_index(rag_cache, embedder=clients.embeddings("openai/embedder"))
        hits = await index.search(["write a matrix"], limit=5)
        await clients.aclose()
    finally:
        llm.stop()
    assert list(rag_cache.glob("manim-*/dense-openai_embedder.msgpack"))
    assert len(hits) == 5 and any("matrix" in h.name.lower() for h in hits)
    assert llm.received[-1].body["input"] == ["write a matrix"]  # the query was embedded
    index.close()
