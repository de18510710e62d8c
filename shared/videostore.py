"""Where finished videos and their thumbnails live, behind one small interface.

The storage service writes through it; the gateway reads, serves and deletes through
it. Keys are `videos/<user key>/<job id>/<name>` in every mode, so a local file and an
S3 object of the same job have the same key.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from shared.jobview import user_key


def object_key(user_id: str, job_id: str, name: str) -> str:
    return f"videos/{user_key(user_id)}/{job_id}/{name}"


@dataclass(frozen=True)
class StoredObject:
    """What serving a stored file needs to know about it."""

    key: str
    size: int
    modified: datetime
    etag: str


class VideoStore(Protocol):
    """Stores, describes, opens and deletes a job's files by key."""

    async def save(self, key: str, source: Path, *, content_type: str) -> StoredObject: ...

    async def stat(self, key: str) -> StoredObject | None: ...

    def local_path(self, key: str) -> Path | None:
        """A file the gateway can stream directly, when this store keeps one."""
        ...

    async def delete_prefix(self, prefix: str) -> int: ...


class LocalVideoStore:
    """Files under a root directory, written atomically."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def local_path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError(f"key escapes the store: {key!r}")
        return path

    async def save(self, key: str, source: Path, *, content_type: str) -> StoredObject:
        target = self.local_path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.partial")
        shutil.copyfile(source, partial)
        os.replace(partial, target)
        stored = await self.stat(key)
        assert stored is not None
        return stored

    async def stat(self, key: str) -> StoredObject | None:
        try:
            info = self.local_path(key).stat()
        except (FileNotFoundError, ValueError):
            return None
        return StoredObject(
            key=key,
            size=info.st_size,
            modified=datetime.fromtimestamp(info.st_mtime, UTC),
            etag=f'"{info.st_size:x}-{info.st_mtime_ns:x}"',
        )

    async def delete_prefix(self, prefix: str) -> int:
        folder = self.local_path(prefix)
        if not folder.is_dir():
            return 0
        count = sum(1 for item in folder.rglob("*") if item.is_file())
        shutil.rmtree(folder, ignore_errors=True)
        with contextlib.suppress(OSError):
            folder.parent.rmdir()  # the user's folder, when this was their last job
        return count
