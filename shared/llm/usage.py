"""Token usage and estimated cost of the LLM calls made for one piece of work."""

from __future__ import annotations

from shared.events import ModelUsage

# USD per million (prompt, completion) tokens, by bare model name. Unknown and local models
# cost 0: the estimate is a guide for hosted models, not a bill.
PRICES_PER_MILLION: dict[str, tuple[float, float]] = {
    "gpt-4o": (2.5, 10.0),
    "gpt-4o-mini": (0.15, 0.6),
    "gpt-4.1": (2.0, 8.0),
    "gpt-4.1-mini": (0.4, 1.6),
    "gpt-4.1-nano": (0.1, 0.4),
    "o3-mini": (1.1, 4.4),
    "o4-mini": (1.1, 4.4),
    "text-embedding-3-small": (0.02, 0.0),
    "text-embedding-3-large": (0.13, 0.0),
}
_FREE_PROVIDERS = frozenset({"ollama", "vllm"})


def estimated_cost(model: str, *, prompt_tokens: int, completion_tokens: int) -> float:
    """Estimated USD cost of tokens on `model` (a `provider/model` string)."""
    provider, _, bare = model.partition("/")
    if provider in _FREE_PROVIDERS:
        return 0.0
    prompt_price, completion_price = PRICES_PER_MILLION.get(bare.rsplit("/", 1)[-1], (0.0, 0.0))
    return round((prompt_tokens * prompt_price + completion_tokens * completion_price) / 1e6, 6)


class UsageMeter:
    """Counts calls and tokens per model while one stage works on one job or scene."""

    def __init__(self) -> None:
        self._by_model: dict[str, ModelUsage] = {}

    def record(self, model: str, *, prompt_tokens: int, completion_tokens: int) -> None:
        usage = self._by_model.setdefault(model, ModelUsage(model=model))
        usage.calls += 1
        usage.prompt_tokens += prompt_tokens
        usage.completion_tokens += completion_tokens
        usage.cost_usd = estimated_cost(
            model, prompt_tokens=usage.prompt_tokens, completion_tokens=usage.completion_tokens
        )

    def snapshot(self) -> list[ModelUsage]:
        """Usage so far, one entry per model called (empty when nothing was called)."""
        return [
            ModelUsage(
                model=u.model,
                calls=u.calls,
                prompt_tokens=u.prompt_tokens,
                completion_tokens=u.completion_tokens,
                cost_usd=u.cost_usd,
            )
            for u in self._by_model.values()
        ]
