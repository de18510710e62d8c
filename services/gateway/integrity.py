"""Before a finished video is served: is it still the file storage verified?

Storage records each video's size and sha256 when it stores it; anything that writes
where videos live later (a hostile render, a disk fault, an operator) would otherwise
be served as the job's result. The size is checked on every request; the sha256 once per
version of the file (local: inode, size, mtime and ctime, which a writer cannot set
back; S3: the ETag and the sha256 recorded in the object's metadata), so streaming
stays cheap.

A mismatch answers 500 `INTEGRITY_ERROR`: the fault is the server's own stored copy,
nothing in the request can fix it, a retry will not either, and monitoring should
count it as a server failure; the code (not `INTERNAL_ERROR`) says what happened.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import OrderedDict
from pathlib import Path

from services.gateway.errors import ApiError
from shared.events import StoredVideo
from shared.videostore import StoredObject, VideoStore

log = logging.getLogger("videogen.gateway.integrity")

_CHUNK = 1 << 20
_REMEMBERED = 4096  # verified file versions kept (LRU)


class IntegrityChecker:
    """Verifies stored videos against their recorded size and sha256, caching verdicts."""

    def __init__(self) -> None:
        self._verified: OrderedDict[tuple[object, ...], bool] = OrderedDict()

    async def verified(self, store: VideoStore, video: StoredVideo, *, job_id: str) -> StoredObject:
        """The stored video's description; 404 when it is gone, INTEGRITY_ERROR when altered."""
        stored = await store.stat(video.video_key)
        if stored is None:
            raise ApiError(404, "NOT_FOUND", "The stored file is missing")
        if stored.size != video.file_size:
            raise _mismatch(job_id, video, f"size {stored.size} instead of {video.file_size}")
        version, digest = await self._version_and_digest(store, stored)
        ok = self._verified.get(version)
        if ok is None:
            ok = digest is None or digest == video.sha256
            self._remember(version, ok)
        if not ok:
            raise _mismatch(job_id, video, "sha256 differs from the one recorded at storage")
        return stored

    async def _version_and_digest(
        self, store: VideoStore, stored: StoredObject
    ) -> tuple[tuple[object, ...], str | None]:
        """What identifies this version of the file, and its sha256 (None: not checkable)."""
        path = store.local_path(stored.key)
        if path is not None and path.is_file():
            info = path.stat()
            version = (
                "local",
                str(path),
                info.st_ino,
                info.st_size,
                info.st_mtime_ns,
                info.st_ctime_ns,
            )
            if version in self._verified:
                return version, None
            return version, await asyncio.to_thread(_sha256_of, path)
        # Remote: hashing would download the whole object; its recorded sha256 is cheap.
        return ("remote", stored.key, stored.etag, stored.size), stored.metadata.get("sha256")

    def _remember(self, version: tuple[object, ...], ok: bool) -> None:
        self._verified[version] = ok
        self._verified.move_to_end(version)
        while len(self._verified) > _REMEMBERED:
            self._verified.popitem(last=False)


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _mismatch(job_id: str, video: StoredVideo, what: str) -> ApiError:
    log.error(
        "stored video failed its integrity check: %s",
        what,
        extra={"job_id": job_id, "key": video.video_key},
    )
    return ApiError(
        500,
        "INTEGRITY_ERROR",
        "The stored video no longer matches what was recorded when it was stored; "
        "it is not served. Generate the video again.",
        details={"expected_size": video.file_size, "expected_sha256": video.sha256},
    )
