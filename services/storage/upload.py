"""Saving one file with retries and verifying what landed (requirement 4.7).

A save is retried here, inside the handler, rather than by redelivering the event: the
bounded count (STORAGE_MAX_RETRIES) then means exactly that many retries of the upload,
the waits are `asyncio.sleep` (the loop keeps serving heartbeats), and the job's error
says how many attempts were made and what S3 answered last.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from services.storage import metrics
from shared.errors import PermanentError, StageError, TransientError
from shared.retry import GaveUp, backoff_delay, retrying
from shared.videostore import StoredObject, VideoStore

log = logging.getLogger("videogen.storage")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a failed save is tried again."""

    retries: int = 3
    base_seconds: float = 1.0
    cap_seconds: float = 30.0


@dataclass(frozen=True)
class LocalFile:
    """A file to store and what the stored copy must match."""

    path: Path
    key: str
    content_type: str
    size: int
    sha256: str


async def save_verified(
    store: VideoStore,
    file: LocalFile,
    *,
    metadata: Mapping[str, str],
    policy: RetryPolicy,
    mode: str,
) -> StoredObject:
    """Save `file` until a verified copy is stored, or raise STORAGE_UPLOAD_FAILED.

    `PermanentError`s (access denied, no bucket) are not retried: only a change of
    configuration can help them.
    """
    attempts = policy.retries + 1

    async def attempt_save(attempt: int) -> StoredObject:
        started = time.perf_counter()
        try:
            stored = await store.save(
                file.key,
                file.path,
                content_type=file.content_type,
                metadata={**metadata, "sha256": file.sha256},
            )
            verify(stored, file)
        except StageError as exc:
            retried = isinstance(exc, TransientError) and attempt < attempts
            metrics.observe(
                mode=mode,
                operation="upload",
                outcome="retry" if retried else "failure",
                seconds=time.perf_counter() - started,
            )
            raise
        metrics.observe(
            mode=mode,
            operation="upload",
            outcome="success",
            seconds=time.perf_counter() - started,
            size=file.size,
        )
        return stored

    def on_retry(exc: Exception, attempt: int, wait: float) -> None:
        log.warning(
            "saving %s failed (attempt %d of %d), retrying in %.2fs: %s",
            file.key,
            attempt,
            attempts,
            wait,
            exc,
        )

    try:
        return await retrying(
            attempt_save,
            attempts=attempts,
            retry_on=lambda exc: isinstance(exc, TransientError),
            delay=lambda _exc, attempt: backoff_delay(
                attempt, base=policy.base_seconds, cap=policy.cap_seconds
            ),
            on_retry=on_retry,
        )
    except GaveUp as gave_up:
        error = gave_up.error
        if isinstance(error, TransientError):
            raise upload_failed(file, error, attempts=gave_up.attempts) from error
        if isinstance(error, PermanentError):
            error.stage, error.attempts = "storage", gave_up.attempts
        raise error from None


def verify(stored: StoredObject, file: LocalFile) -> None:
    """The stored copy has the file's size and, where the store records one, its SHA-256."""
    recorded = stored.metadata.get("sha256")
    if stored.size != file.size or (recorded is not None and recorded != file.sha256):
        raise TransientError(
            f"stored {file.key} does not match the file: {stored.size} bytes, sha256 "
            f"{recorded}; expected {file.size} bytes, sha256 {file.sha256}",
            code="STORAGE_VERIFY_FAILED",
        )


def upload_failed(file: LocalFile, last: TransientError, *, attempts: int) -> PermanentError:
    """The job's error once every retry is used up: what failed, how often, what to do."""
    return PermanentError(
        f"Storing {file.key} failed after {attempts} attempts: {last.message}",
        code="STORAGE_UPLOAD_FAILED",
        stage="storage",
        attempts=attempts,
        suggestion=last.suggestion or "Check the storage backend, then retry the job.",
        details={
            **(last.details or {}),
            "key": file.key,
            "retries": attempts - 1,
            "last_error_code": last.code,
            "last_error": last.message,
        },
    )
