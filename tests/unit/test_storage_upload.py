"""save_verified: retries transient failures and bad copies, never permanent ones."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.storage.upload import LocalFile, RetryPolicy, save_verified
from shared.errors import PermanentError, StageError, TransientError
from shared.videostore import StoredObject

FAST = RetryPolicy(retries=3, base_seconds=0.001)


class ScriptedStore:
    """Answers each save with the next scripted error, or with the stored object."""

    fallback = None

    def __init__(self, *script: StageError | StoredObject) -> None:
        self.script = list(script)
        self.saves = 0

    async def save(
        self,
        key: str,
        source: Path,
        *,
        content_type: str,
        metadata: Mapping[str, str] | None = None,
    ) -> StoredObject:
        self.saves += 1
        step = self.script.pop(0)
        if isinstance(step, StageError):
            raise step
        return step


FILE = LocalFile(Path("video.mp4"), "videos/u/j/video.mp4", "video/mp4", 10, "ab" * 32)
GOOD = StoredObject(FILE.key, 10, datetime.now(UTC), '"e"', metadata={"sha256": FILE.sha256})


async def _save(store: ScriptedStore) -> StoredObject:
    return await save_verified(store, FILE, metadata={}, policy=FAST, mode="s3_only")  # type: ignore[arg-type]


async def test_transient_failures_and_bad_copies_are_retried():
    bad_copy = StoredObject(FILE.key, 9, datetime.now(UTC), '"e"', metadata=GOOD.metadata)
    store = ScriptedStore(TransientError("reset"), bad_copy, GOOD)
    assert await _save(store) is GOOD
    assert store.saves == 3


async def test_gives_up_after_the_last_retry_with_the_last_error():
    store = ScriptedStore(*[TransientError("refused", suggestion="check it")] * 4)
    with pytest.raises(PermanentError) as caught:
        await _save(store)
    error = caught.value
    assert store.saves == 4
    assert (error.code, error.stage, error.attempts) == ("STORAGE_UPLOAD_FAILED", "storage", 4)
    assert error.details is not None and error.details["retries"] == 3
    assert "refused" in error.message and error.suggestion == "check it"


async def test_permanent_errors_are_not_retried():
    store = ScriptedStore(PermanentError("denied", code="STORAGE_ACCESS_DENIED"))
    with pytest.raises(PermanentError) as caught:
        await _save(store)
    assert store.saves == 1 and caught.value.code == "STORAGE_ACCESS_DENIED"
    assert caught.value.stage == "storage"
