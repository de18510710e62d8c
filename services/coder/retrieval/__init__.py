"""Retrieval over the installed Manim's own API: corpus, BM25 vectors, Qdrant index.

Nothing here imports videogen's bus or settings: `open_index(...)` builds (or loads
from its on-disk cache) a searchable index for the Manim version that is installed.
"""
