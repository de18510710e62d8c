"""A content-addressed cache of rendered clips, shared by every renderer replica.

The same scene code at the same quality, with the same Manim and renderer, always makes the
same clip, so a hash of those inputs names the clip: a repeat costs a lookup, not a render
(Manim's own cache still re-runs the scene's Python). Clips live in shared blob storage
(the JetStream object store) behind the small :class:`ClipStore` protocol, so all
replicas see them. The total size is bounded: after each store the least recently used
clips are evicted. Races between replicas are harmless — two replicas rendering the same
key store the same bytes, and a clip evicted under a reader is just a miss.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Protocol

CACHE_FORMAT = 1  # bump when what a clip contains changes for the same inputs


@dataclass(frozen=True)
class StoredClip:
    """One cached clip as the store lists it."""

    key: str
    size: int
    last_used: float


class ClipStore(Protocol):
    """Shared blob storage for cached clips, addressed by cache key."""

    async def fetch(self, key: str, path: Path) -> bool:
        """Copy the clip to ``path``; False when it is not stored."""
        ...

    async def store(self, key: str, path: Path, *, last_used: float) -> None: ...

    async def touch(self, key: str, *, last_used: float) -> None: ...

    async def entries(self) -> list[StoredClip]: ...

    async def remove(self, key: str) -> None: ...


def cache_key(
    code: str,
    *,
    class_name: str,
    quality: str,
    renderer: str,
    manim_version: str | None = None,
    assets: dict[str, str] | None = None,
) -> str:
    """The hash naming the clip these inputs render to (``assets``: name → content hash)."""
    inputs = {
        "format": CACHE_FORMAT,
        "code": code,
        "class_name": class_name,
        "quality": quality,
        "renderer": renderer,
        "manim": manim_version or version("manim"),
        "assets": assets or {},
    }
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


class RenderCache:
    """Look clips up by key and store new ones, keeping the total under ``max_bytes``."""

    def __init__(self, store: ClipStore, *, max_bytes: int) -> None:
        self.store = store
        self.max_bytes = max_bytes
        self.hits = 0
        self.misses = 0

    async def get(self, key: str, target: Path) -> Path | None:
        """The cached clip for ``key`` copied to ``target``, or None."""
        if not await self.store.fetch(key, target):
            self.misses += 1
            return None
        self.hits += 1
        await self.store.touch(key, last_used=time.time())
        return target

    async def put(self, key: str, clip: Path) -> None:
        """Store a freshly rendered clip, then evict least recently used clips over budget."""
        if clip.stat().st_size > self.max_bytes:
            return
        await self.store.store(key, clip, last_used=time.time())
        await self.evict()

    async def evict(self) -> list[str]:
        """Remove least recently used clips until the total fits; the keys removed."""
        entries = sorted(await self.store.entries(), key=lambda entry: entry.last_used)
        total = sum(entry.size for entry in entries)
        removed: list[str] = []
        for entry in entries:
            if total <= self.max_bytes:
                break
            await self.store.remove(entry.key)
            total -= entry.size
            removed.append(entry.key)
        return removed
