"""Structured JSON logs: one line per record, carrying the job and stage in scope.

`job_scope(job_id=…, stage=…)` puts ids into a context variable so every log line a
handler writes, however deep, says which job it belongs to.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import time
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from shared.redact import redact, redact_value

_scope: ContextVar[dict[str, Any] | None] = ContextVar("videogen_log_scope", default=None)

_RESERVED = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """Render a record as one JSON object: time, level, service, message, scope, extras.

    Text is scrubbed of secrets and host paths here, where every log line passes.
    """

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "message": redact(record.getMessage()),
            **(_scope.get() or {}),
        }
        line.update({k: redact_value(v) for k, v in vars(record).items() if k not in _RESERVED})
        if record.exc_info:
            line["stack"] = redact(self.formatException(record.exc_info))
        return json.dumps(line, default=lambda value: redact(str(value)))


def configure_logging(service: str, *, debug: bool = False) -> None:
    """JSON lines on stderr; DEBUG=true makes every library verbose too."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    if not debug:
        for noisy in ("nats", "faststream", "uvicorn.access", "httpx", "manim", "asyncio"):
            logging.getLogger(noisy).setLevel(logging.WARNING)


@contextlib.contextmanager
def job_scope(**fields: Any) -> Iterator[None]:
    """Attach fields (job_id, stage, scene, …) to every log line inside the block."""
    present = {key: value for key, value in fields.items() if value is not None}
    token = _scope.set({**(_scope.get() or {}), **present})
    try:
        yield
    finally:
        _scope.reset(token)


@contextlib.contextmanager
def timed(logger: logging.Logger, what: str, **fields: Any) -> Iterator[dict[str, Any]]:
    """Log entry and exit of a piece of work with its duration (requirement 8.2)."""
    started = time.perf_counter()
    logger.info("%s started", what, extra=fields)
    outcome: dict[str, Any] = {}
    try:
        yield outcome
    except BaseException:
        seconds = round(time.perf_counter() - started, 3)
        logger.info("%s stopped", what, extra={**fields, "duration_seconds": seconds})
        raise
    seconds = round(time.perf_counter() - started, 3)
    logger.info("%s finished", what, extra={**fields, **outcome, "duration_seconds": seconds})
