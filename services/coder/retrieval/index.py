"""The Manim docs index in Qdrant: built once per Manim version, cached on disk, searched.

The expensive part (walking Manim, BM25 statistics, embeddings) is cached in
`<cache_dir>/manim-<version>/`, so it is done once per installed Manim version and
never inside a job. Vectors go into Qdrant: in-process (`:memory:`, loaded from the
cache at start-up, so any number of coder processes can share one cache folder, which a
local-mode `path=` would lock), or the server at `qdrant_url`, whose collection is named
by the version and filled only when it is missing.

With an embedder, documents also get dense vectors and a query is answered by fusing
the sparse and dense rankings (RRF); without one, BM25 alone.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import msgspec
from qdrant_client import QdrantClient, models

from services.coder.models.llm import DocHit
from services.coder.retrieval.corpus import Document, build_corpus, manim_version
from services.coder.retrieval.sparse import Bm25, SparseVector

log = logging.getLogger("videogen.coder.retrieval")

SPARSE = "bm25"
DENSE = "dense"
CANDIDATES = 30  # per query and vector kind, before fusion
EMBED_BATCH = 64
RRF_K = 60


class Embedder(Protocol):
    """Dense embeddings from an OpenAI-compatible endpoint (shared.llm EmbeddingClient)."""

    @property
    def model_string(self) -> str: ...

    async def embed(self, texts: list[str]) -> list[list[float]]: ...


class CachedCorpus(msgspec.Struct):
    """What is cached per Manim version: documents, BM25 statistics and sparse vectors."""

    manim_version: str
    documents: list[Document]
    document_frequency: dict[int, int]
    count: int
    mean_length: float
    sparse: list[SparseVector]


class CachedDense(msgspec.Struct):
    model: str
    vectors: list[list[float]]


def search_text(document: Document) -> str:
    # The name counts twice: most questions are answered by a name.
    return f"{document.name} {document.name} {document.keywords} {document.text}"


def load_corpus(folder: Path) -> CachedCorpus:
    """The cached corpus of the installed Manim, built and written on first use."""
    path = folder / "corpus.msgpack"
    if path.exists():
        cached = msgspec.msgpack.decode(path.read_bytes(), type=CachedCorpus)
        if cached.manim_version == manim_version():
            return cached
    started = time.perf_counter()
    documents = build_corpus()
    bm25 = Bm25.fit(search_text(d) for d in documents)
    cached = CachedCorpus(
        manim_version=manim_version(),
        documents=documents,
        document_frequency=bm25.document_frequency,
        count=bm25.count,
        mean_length=bm25.mean_length,
        sparse=[bm25.document(search_text(d)) for d in documents],
    )
    folder.mkdir(parents=True, exist_ok=True)
    _write_atomically(path, msgspec.msgpack.encode(cached))
    log.info(
        "built the Manim docs corpus",
        extra={"documents": len(documents), "seconds": round(time.perf_counter() - started, 2)},
    )
    return cached


async def load_dense(folder: Path, corpus: CachedCorpus, embedder: Embedder) -> CachedDense:
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", embedder.model_string)
    path = folder / f"dense-{slug}.msgpack"
    if path.exists():
        return msgspec.msgpack.decode(path.read_bytes(), type=CachedDense)
    texts = [d.text for d in corpus.documents]
    vectors: list[list[float]] = []
    for start in range(0, len(texts), EMBED_BATCH):
        vectors += await embedder.embed(texts[start : start + EMBED_BATCH])
    dense = CachedDense(model=embedder.model_string, vectors=vectors)
    _write_atomically(path, msgspec.msgpack.encode(dense))
    return dense


def _write_atomically(path: Path, data: bytes) -> None:
    partial = path.with_suffix(path.suffix + ".partial")
    partial.write_bytes(data)
    partial.replace(path)


class DocsIndex:
    """Searches the Manim docs; satisfies the coder's `DocSearch` (models/llm.py)."""

    def __init__(
        self,
        client: QdrantClient,
        *,
        collection: str,
        corpus: CachedCorpus,
        embedder: Embedder | None = None,
    ) -> None:
        self.client = client
        self.collection = collection
        self.bm25 = Bm25(
            corpus.document_frequency, count=corpus.count, mean_length=corpus.mean_length
        )
        self.embedder = embedder

    async def search(self, queries: Sequence[str], *, limit: int) -> list[DocHit]:
        """The best `limit` documents for all `queries`, fused by reciprocal rank."""
        queries = [q for q in queries if q.strip()]
        dense = await self.embedder.embed(list(queries)) if self.embedder and queries else None
        rankings = await asyncio.to_thread(self._rankings, queries, dense)
        return fuse(rankings, limit=limit)

    def search_sync(self, query: str, *, limit: int) -> list[DocHit]:
        """One sparse-only query, for benchmarks and evaluation."""
        return fuse(self._rankings([query], None), limit=limit)

    def _rankings(
        self, queries: Sequence[str], dense: list[list[float]] | None
    ) -> list[list[DocHit]]:
        rankings: list[list[DocHit]] = []
        for n, query in enumerate(queries):
            sparse = self.bm25.query(query)
            sparse_query = models.SparseVector(indices=sparse.indices, values=sparse.values)
            if dense is None:
                result = self.client.query_points(
                    self.collection,
                    query=sparse_query,
                    using=SPARSE,
                    limit=CANDIDATES,
                    with_payload=True,
                )
            else:
                result = self.client.query_points(
                    self.collection,
                    prefetch=[
                        models.Prefetch(query=sparse_query, using=SPARSE, limit=CANDIDATES),
                        models.Prefetch(query=dense[n], using=DENSE, limit=CANDIDATES),
                    ],
                    query=models.FusionQuery(fusion=models.Fusion.RRF),
                    limit=CANDIDATES,
                    with_payload=True,
                )
            rankings.append(
                [
                    DocHit(
                        name=p.payload["name"],
                        text=p.payload["text"],
                        score=p.score,
                        covers=tuple(p.payload.get("covers", ())),
                    )
                    for p in result.points
                    if p.payload
                ]
            )
        return rankings

    def close(self) -> None:
        self.client.close()


def fuse(rankings: list[list[DocHit]], *, limit: int) -> list[DocHit]:
    """Reciprocal-rank fusion of several rankings (a single ranking keeps its order)."""
    scores: dict[str, float] = {}
    hits: dict[str, DocHit] = {}
    for ranking in rankings:
        for rank, hit in enumerate(ranking):
            scores[hit.name] = scores.get(hit.name, 0.0) + 1 / (RRF_K + rank)
            hits.setdefault(hit.name, hit)
    best = sorted(scores, key=lambda name: scores[name], reverse=True)[:limit]
    return [
        DocHit(name=n, text=hits[n].text, score=round(scores[n], 5), covers=hits[n].covers)
        for n in best
    ]


async def open_index(
    cache_dir: Path, *, qdrant_url: str = "", embedder: Embedder | None = None
) -> DocsIndex:
    """The docs index of the installed Manim, from the cache in `cache_dir` (built if absent)."""
    folder = cache_dir / f"manim-{manim_version()}"
    corpus = await asyncio.to_thread(load_corpus, folder)
    dense = await load_dense(folder, corpus, embedder) if embedder else None
    collection = f"manim-docs-{corpus.manim_version}" + (
        "-" + re.sub(r"[^A-Za-z0-9_-]+", "-", dense.model) if dense else ""
    )
    client = QdrantClient(url=qdrant_url) if qdrant_url else QdrantClient(location=":memory:")
    await asyncio.to_thread(_fill, client, collection, corpus, dense)
    return DocsIndex(client, collection=collection, corpus=corpus, embedder=embedder)


def _fill(
    client: QdrantClient, collection: str, corpus: CachedCorpus, dense: CachedDense | None
) -> None:
    """Create and fill the collection unless a server already holds it complete."""
    if client.collection_exists(collection):
        if client.count(collection).count == len(corpus.documents):
            return
        client.delete_collection(collection)
    client.create_collection(
        collection,
        vectors_config=(
            {
                DENSE: models.VectorParams(
                    size=len(dense.vectors[0]), distance=models.Distance.COSINE
                )
            }
            if dense
            else {}
        ),
        sparse_vectors_config={SPARSE: models.SparseVectorParams()},
    )
    points = []
    for n, (document, sparse) in enumerate(zip(corpus.documents, corpus.sparse, strict=True)):
        vector: dict[str, Any] = {
            SPARSE: models.SparseVector(indices=sparse.indices, values=sparse.values)
        }
        if dense:
            vector[DENSE] = dense.vectors[n]
        points.append(
            models.PointStruct(
                id=n,
                vector=vector,
                payload={"name": document.name, "text": document.text, "covers": document.covers},
            )
        )
    for start in range(0, len(points), 500):
        client.upsert(collection, points=points[start : start + 500], wait=True)
