"""The render cache's clips in the JetStream object store (the boundary to NATS).

Clips are stored under ``cache/<key>.mp4`` in the artifact bucket every replica shares;
the last use is kept in the object's description, so recency survives restarts and is
the same for every replica.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from nats.js import api
from nats.js.errors import NotFoundError, ObjectDeletedError, ObjectNotFoundError
from nats.js.object_store import ObjectStore

from services.renderer.cache import StoredClip
from shared import artifacts

_MISSING = (ObjectNotFoundError, ObjectDeletedError, NotFoundError)


class ObjectStoreClips:
    """A :class:`~services.renderer.cache.ClipStore` over a JetStream object store."""

    def __init__(self, store: ObjectStore) -> None:
        self.objects = store

    async def fetch(self, key: str, path: Path) -> bool:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with path.open("wb") as target:
                await self.objects.get(artifacts.cache_clip_name(key), writeinto=target)
        except _MISSING:
            path.unlink(missing_ok=True)
            return False
        return True

    async def store(self, key: str, path: Path, *, last_used: float) -> None:
        name = artifacts.cache_clip_name(key)
        meta = api.ObjectMeta(name=name, description=repr(last_used))
        with path.open("rb") as source:
            await self.objects.put(name, source, meta=meta)

    async def touch(self, key: str, *, last_used: float) -> None:
        name = artifacts.cache_clip_name(key)
        meta = api.ObjectMeta(name=name, description=repr(last_used))
        with contextlib.suppress(*_MISSING):
            await self.objects.update_meta(name, meta)

    async def entries(self) -> list[StoredClip]:
        try:
            infos = await self.objects.list(ignore_deletes=True)
        except NotFoundError:
            return []
        return [
            StoredClip(
                key=info.name.removeprefix(artifacts.CACHE_PREFIX).removesuffix(".mp4"),
                size=info.size or 0,
                last_used=_float(info.description),
            )
            for info in infos
            if info.name.startswith(artifacts.CACHE_PREFIX) and not info.deleted
        ]

    async def remove(self, key: str) -> None:
        with contextlib.suppress(*_MISSING):
            await self.objects.delete(artifacts.cache_clip_name(key))


def _float(text: str | None) -> float:
    try:
        return float(text or 0)
    except ValueError:
        return 0.0
