"""The small error tree every stage raises; the runtime turns it into acks and events.

Transient errors are retried by the broker (nak with a growing delay); permanent ones
terminate the message and fail the job with stage context. Library errors are
translated into these once, at the boundary where they happen.
"""

from __future__ import annotations

from typing import Any


class StageError(Exception):
    """A failure inside a stage, with what a person needs to act on it."""

    code = "STAGE_FAILED"
    recoverable = False

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        suggestion: str = "",
        details: dict[str, Any] | None = None,
        stage: str | None = None,
        attempts: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.code
        self.suggestion = suggestion
        self.details = details
        self.stage = stage  # where the job failed, when not the stage that noticed
        self.attempts = attempts  # tries made inside the handler, when it retried itself


class TransientError(StageError):
    """Worth retrying later: a dependency is down or busy."""

    code = "TRANSIENT_FAILURE"
    recoverable = True


class PermanentError(StageError):
    """Retrying the same input cannot help: fail the job now."""

    code = "PERMANENT_FAILURE"


class JobGone(Exception):
    """The job was cancelled, failed or deleted: drop the work quietly."""
