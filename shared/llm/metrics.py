"""Prometheus metrics of LLM requests, counted by the client itself (deploy/k8s/README.md).

Labels are bounded: the model string, the purpose (the prompt's name) and the outcome.
Only prometheus_client is imported, so the client stays free of broker and tracing code.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass

from prometheus_client import Counter, Histogram

# From a fast local model to a slow hosted one that times out at LLM_TIMEOUT_SECONDS.
SECONDS_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)

LLM_CALLS = Counter(
    "videogen_llm_calls",
    "LLM requests by model, purpose and outcome.",
    ["model", "purpose", "outcome"],
)
LLM_TOKENS = Counter(
    "videogen_llm_tokens",
    "LLM tokens by model and kind (prompt, completion).",
    ["model", "kind"],
)
LLM_SECONDS = Histogram(
    "videogen_llm_seconds",
    "Latency of one LLM request.",
    ["model", "purpose"],
    buckets=SECONDS_BUCKETS,
)


@dataclass
class LlmCall:
    """What an LLM client reports about one request while it is observed."""

    prompt_tokens: int = 0
    completion_tokens: int = 0


@contextlib.contextmanager
def observed_llm_call(*, model: str, purpose: str) -> Iterator[LlmCall]:
    """Count and time one LLM request; the client fills in the token usage."""
    call = LlmCall()
    started = time.perf_counter()
    outcome = "ok"
    try:
        yield call
    except BaseException:
        outcome = "error"
        raise
    finally:
        LLM_CALLS.labels(model, purpose, outcome).inc()
        LLM_SECONDS.labels(model, purpose).observe(time.perf_counter() - started)
        LLM_TOKENS.labels(model, "prompt").inc(call.prompt_tokens)
        LLM_TOKENS.labels(model, "completion").inc(call.completion_tokens)
