"""Where finished videos and their thumbnails live, behind one small interface.

The storage service writes through it; the gateway reads, serves and deletes through
it, the same way whatever the mode. Keys are `videos/<user key>/<job id>/<name>` in every
mode, so a local file and an S3 object of the same job have the same key.

Modes (VIDEO_STORAGE_MODE): `local_only` → `LocalVideoStore`, `s3_only` →
`S3VideoStore` (shared/s3store.py), `local_and_s3` → `MirroredVideoStore` of both.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

from shared.jobview import user_key

READ_CHUNK_BYTES = 256 * 1024


SUBTITLE_TYPES = {"srt": "application/x-subrip", "vtt": "text/vtt; charset=utf-8"}


def object_key(user_id: str, job_id: str, name: str) -> str:
    return f"videos/{user_key(user_id)}/{job_id}/{name}"


def revision_file(revision: int, name: str) -> str:
    """A file of a job's revision: the original's at the job's top, revision k's under
    `r<k>/`, so every revision stays stored (and deleting the job's folder removes all)."""
    return name if revision <= 1 else f"r{revision}/{name}"


@dataclass(frozen=True)
class StoredObject:
    """What serving or verifying a stored file needs to know about it."""

    key: str
    size: int
    modified: datetime
    etag: str
    content_type: str = "application/octet-stream"
    # User metadata written with the object (S3 only: sha256, duration, resolution, …).
    metadata: Mapping[str, str] = field(default_factory=dict)


class VideoStore(Protocol):
    """Stores, describes, serves and deletes a job's files by key.

    Errors of a remote store arrive as `TransientError` (worth retrying) or
    `PermanentError` (fix the configuration first), never as library exceptions.
    """

    # Where to write when this store fails for good and the operator allowed degrading
    # (local_and_s3 with S3_FALLBACK_TO_LOCAL): its local half. None everywhere else.
    fallback: VideoStore | None

    async def save(
        self,
        key: str,
        source: Path,
        *,
        content_type: str,
        metadata: Mapping[str, str] | None = None,
    ) -> StoredObject:
        """Store `source` under `key` (replacing it) and describe what is now stored."""
        ...

    async def stat(self, key: str) -> StoredObject | None: ...

    def local_path(self, key: str) -> Path | None:
        """A file the gateway can stream directly, when this store keeps one."""
        ...

    def open_range(self, key: str, first: int, last: int) -> AsyncGenerator[bytes, None]:
        """Bytes `first`..`last` (inclusive, as in HTTP Range) in chunks.

        Raises `FileNotFoundError` when the key is missing. Close the iterator
        (`aclose`) when stopping early, so a remote connection is released.
        """
        ...

    def presigned_get(
        self, key: str, *, expires: timedelta, disposition: str | None = None
    ) -> str | None:
        """A short-lived URL a client can GET (with Range) directly; None if not in S3.

        `disposition` is the Content-Disposition the response should carry (e.g.
        `attachment; filename="x.mp4"`). Mint one per request; never store it.
        """
        ...

    def locations(self, key: str) -> dict[str, str]:
        """Where the copies of `key` live, for the job record: {"local": …, "s3": …}."""
        ...

    async def delete_prefix(self, prefix: str) -> int:
        """Delete every file under `prefix` (a job's folder); how many were removed."""
        ...


class LocalVideoStore:
    """Files under a root directory, written atomically."""

    fallback: VideoStore | None = None

    def __init__(self, root: Path) -> None:
        self.root = root

    def local_path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError(f"key escapes the store: {key!r}")
        return path

    async def save(
        self,
        key: str,
        source: Path,
        *,
        content_type: str,
        metadata: Mapping[str, str] | None = None,
    ) -> StoredObject:
        target = self.local_path(key)
        await asyncio.to_thread(_copy_atomically, source, target)
        stored = await self.stat(key)
        assert stored is not None
        return StoredObject(
            key=key,
            size=stored.size,
            modified=stored.modified,
            etag=stored.etag,
            content_type=content_type,
        )

    async def stat(self, key: str) -> StoredObject | None:
        try:
            info = self.local_path(key).stat()
        except (FileNotFoundError, NotADirectoryError, ValueError):
            return None
        return StoredObject(
            key=key,
            size=info.st_size,
            modified=datetime.fromtimestamp(info.st_mtime, UTC),
            etag=f'"{info.st_size:x}-{info.st_mtime_ns:x}"',
        )

    async def open_range(self, key: str, first: int, last: int) -> AsyncGenerator[bytes, None]:
        handle = await asyncio.to_thread(open, self.local_path(key), "rb")
        try:
            await asyncio.to_thread(handle.seek, first)
            remaining = last - first + 1
            while remaining > 0:
                chunk = await asyncio.to_thread(handle.read, min(READ_CHUNK_BYTES, remaining))
                if not chunk:
                    break
                remaining -= len(chunk)
                yield chunk
        finally:
            handle.close()

    def presigned_get(
        self, key: str, *, expires: timedelta, disposition: str | None = None
    ) -> None:
        return None

    def locations(self, key: str) -> dict[str, str]:
        return {"local": str(self.local_path(key))}

    async def delete_prefix(self, prefix: str) -> int:
        return await asyncio.to_thread(self._delete_folder, prefix)

    def _delete_folder(self, prefix: str) -> int:
        folder = self.local_path(prefix)
        if not folder.is_dir():
            return 0
        count = sum(1 for item in folder.rglob("*") if item.is_file())
        shutil.rmtree(folder, ignore_errors=True)
        with contextlib.suppress(OSError):
            folder.parent.rmdir()  # the user's folder, when this was their last job
        return count


class MirroredVideoStore:
    """local_and_s3: every file on local disk and in S3.

    A write succeeds only when both copies are written; a failed S3 write raises (the
    storage service retries, then fails the job, or writes to `fallback` when allowed).
    Reads prefer the local copy and use S3 where this host has none.
    """

    def __init__(self, local: LocalVideoStore, remote: VideoStore, *, fallback: bool) -> None:
        self.local = local
        self.remote = remote
        self.fallback: VideoStore | None = local if fallback else None

    async def save(
        self,
        key: str,
        source: Path,
        *,
        content_type: str,
        metadata: Mapping[str, str] | None = None,
    ) -> StoredObject:
        await self.local.save(key, source, content_type=content_type, metadata=metadata)
        return await self.remote.save(key, source, content_type=content_type, metadata=metadata)

    async def stat(self, key: str) -> StoredObject | None:
        return await self.local.stat(key) or await self.remote.stat(key)

    def local_path(self, key: str) -> Path | None:
        path = self.local.local_path(key)
        return path if path.is_file() else None

    def open_range(self, key: str, first: int, last: int) -> AsyncGenerator[bytes, None]:
        store = self.local if self.local_path(key) is not None else self.remote
        return store.open_range(key, first, last)

    def presigned_get(
        self, key: str, *, expires: timedelta, disposition: str | None = None
    ) -> str | None:
        if self.local_path(key) is not None:
            return None
        return self.remote.presigned_get(key, expires=expires, disposition=disposition)

    def locations(self, key: str) -> dict[str, str]:
        return {**self.local.locations(key), **self.remote.locations(key)}

    async def delete_prefix(self, prefix: str) -> int:
        return await self.remote.delete_prefix(prefix) + await self.local.delete_prefix(prefix)


def _copy_atomically(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    shutil.copyfile(source, partial)
    os.replace(partial, target)
