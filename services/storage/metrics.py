"""Storage metrics (requirement 7.4): bytes moved, time taken and outcomes of transfers.

Labels stay bounded: `mode` is VIDEO_STORAGE_MODE, `operation` is upload | download |
delete, `outcome` is success | retry | failure | fallback (local_and_s3 kept only the
local copy). Keys and job ids never become labels. The registry is served by the
process's `/metrics` (shared/metrics.py).
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

from shared.metrics import SECONDS_BUCKETS

TRANSFER_BYTES = Counter(
    "videogen_storage_bytes",
    "Bytes the storage service moved, by storage mode and operation.",
    ["mode", "operation"],
)
OPERATIONS = Counter(
    "videogen_storage_operations",
    "Storage operations by mode, operation and outcome (a retried attempt counts as retry).",
    ["mode", "operation", "outcome"],
)
OPERATION_SECONDS = Histogram(
    "videogen_storage_operation_seconds",
    "Wall time of one storage attempt.",
    ["mode", "operation", "outcome"],
    buckets=SECONDS_BUCKETS,
)


def observe(*, mode: str, operation: str, outcome: str, seconds: float, size: int = 0) -> None:
    """Count one attempt, time it, and add its bytes when it moved any."""
    OPERATIONS.labels(mode, operation, outcome).inc()
    OPERATION_SECONDS.labels(mode, operation, outcome).observe(seconds)
    if size and outcome == "success":
        TRANSFER_BYTES.labels(mode, operation).inc(size)
