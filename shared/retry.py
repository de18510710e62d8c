"""Backoff for every retry in the project: one formula, exponential with full jitter.

The broker's redeliveries, the LLM client's retries, the storage upload's retries and
the coder's wait before a fix all use `backoff_delay`, so one setting of `base` means
the same thing everywhere.
"""

from __future__ import annotations

import random


def backoff_delay(attempt: int, *, base: float = 1.0, cap: float = 60.0) -> float:
    """Exponential backoff with full jitter around the nominal delay (attempt ≥ 1)."""
    nominal = min(cap, base * 2 ** max(attempt - 1, 0))
    jittered: float = nominal * random.uniform(0.5, 1.5)
    return round(jittered, 3)
