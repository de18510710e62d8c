"""Chat and embedding calls to an OpenAI-compatible endpoint, retried and translated once.

Retries live here, inside one handler delivery: 429, 5xx, timeouts and refused
connections are retried `max_retries` times with exponential backoff and jitter (a
Retry-After header wins). What is left over is translated into the stage error tree:
an endpoint still down or failing becomes `PermanentError(LLM_UNAVAILABLE)`, so the
broker does not multiply the retries; a rate limit that outlasts the budget becomes a
`TransientError`, which the broker retries later, at most MAX_DELIVER times.
"""

from __future__ import annotations

import email.utils
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeVar

import openai
from openai import AsyncOpenAI

from shared.errors import PermanentError, StageError, TransientError
from shared.llm.metrics import observed_llm_call
from shared.llm.usage import UsageMeter
from shared.retry import GaveUp, backoff_delay, retrying

log = logging.getLogger("videogen.llm")
T = TypeVar("T")
Message = dict[str, str]
MAX_RETRY_AFTER_SECONDS = 120.0


@dataclass(frozen=True)
class Endpoint:
    """Where a model is served and what it is called there."""

    model_string: str
    base_url: str
    api_key: str = field(repr=False)
    model: str
    setting: str  # the variable to check when the endpoint misbehaves


class RetryPolicy(NamedTuple):
    timeout_seconds: float
    max_retries: int
    base_delay: float


def retry_after(exc: openai.APIStatusError) -> float | None:
    """Seconds the server asked us to wait (Retry-After / retry-after-ms), if it did."""
    headers = exc.response.headers
    if (millis := headers.get("retry-after-ms")) is not None:
        try:
            return float(millis) / 1000
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        when = email.utils.parsedate_to_datetime(value)
        return max(0.0, when.timestamp() - time.time()) if when else None


def _retryable(exc: Exception) -> bool:
    if isinstance(exc, openai.APIConnectionError):  # includes APITimeoutError
        return True
    return isinstance(exc, openai.APIStatusError) and (
        exc.status_code in (408, 409, 429) or exc.status_code >= 500
    )


def translate(exc: Exception, endpoint: Endpoint, *, attempts: int) -> StageError:
    """The stage error for an SDK error that retrying here did not (or cannot) fix."""
    where = f"{endpoint.model_string} at {endpoint.base_url}"
    details = {"model": endpoint.model_string, "attempts": attempts}
    if isinstance(exc, openai.RateLimitError):
        return TransientError(
            f"{where} is rate-limiting requests (429) after {attempts} attempts",
            code="LLM_RATE_LIMITED",
            details=details,
            suggestion="Wait, lower MAX_SCENE_CONCURRENCY, or raise the provider's limits.",
        )
    if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
        return PermanentError(
            f"{where} refused the credentials ({exc.status_code})",
            code="LLM_AUTH_FAILED",
            details=details,
            suggestion=f"Check {endpoint.setting}.",
        )
    if isinstance(exc, openai.NotFoundError):
        return PermanentError(
            f"{where} does not serve model {endpoint.model!r} (404)",
            code="MODEL_UNAVAILABLE",
            details=details,
            suggestion="Check the model name (PLANNER_MODEL, SCENE_MODEL, HELPER_MODEL or the "
            f"job's model) and {endpoint.setting}.",
        )
    if isinstance(exc, openai.APIStatusError) and exc.status_code < 500:
        return PermanentError(
            f"{where} rejected the request ({exc.status_code}): {exc.message}",
            code="LLM_REQUEST_REJECTED",
            details=details,
            suggestion="The endpoint may not support this model or request; try another model.",
        )
    reason = (
        "timed out"
        if isinstance(exc, openai.APITimeoutError)
        else (
            f"answered {exc.status_code}"
            if isinstance(exc, openai.APIStatusError)
            else "could not be reached"
        )
    )
    return PermanentError(
        f"{where} {reason} after {attempts} attempts",
        code="LLM_UNAVAILABLE",
        details=details,
        suggestion=f"Check that the endpoint is up and {endpoint.setting} is right, "
        "or use the offline model 'builtin'.",
    )


async def with_retries(
    call: Callable[[], Awaitable[T]], *, endpoint: Endpoint, policy: RetryPolicy
) -> T:
    """`call()` retried on transient failures, then translated into a stage error."""

    def delay(exc: Exception, attempt: int) -> float:
        asked = retry_after(exc) if isinstance(exc, openai.APIStatusError) else None
        if asked is not None:
            return min(asked, MAX_RETRY_AFTER_SECONDS)
        return backoff_delay(attempt, base=policy.base_delay)

    def on_retry(exc: Exception, attempt: int, wait: float) -> None:
        log.warning(
            "LLM call failed (attempt %d of %d), retrying in %.2fs: %s",
            attempt,
            policy.max_retries + 1,
            wait,
            exc,
            extra={"model": endpoint.model_string},
        )

    try:
        return await retrying(
            lambda _attempt: call(),
            attempts=policy.max_retries + 1,
            retry_on=_retryable,
            delay=delay,
            on_retry=on_retry,
        )
    except GaveUp as gave_up:
        if not isinstance(gave_up.error, openai.OpenAIError):
            raise gave_up.error from None
        raise translate(gave_up.error, endpoint, attempts=gave_up.attempts) from gave_up.error


class ChatClient:
    """Chat completions on one model, with retries, timeouts and usage recorded."""

    def __init__(
        self,
        sdk: AsyncOpenAI,
        *,
        endpoint: Endpoint,
        policy: RetryPolicy,
        meter: UsageMeter | None = None,
    ) -> None:
        self.sdk = sdk
        self.endpoint = endpoint
        self.policy = policy
        self.meter = meter

    @property
    def model_string(self) -> str:
        return self.endpoint.model_string

    async def complete(
        self,
        messages: list[Message],
        *,
        purpose: str = "chat",
        json_mode: bool = False,
        temperature: float = 0.2,
    ) -> str:
        """The assistant's reply text to `messages`; `purpose` (the prompt) labels metrics."""
        extra: dict[str, Any] = {"response_format": {"type": "json_object"}} if json_mode else {}

        async def call() -> Any:
            with observed_llm_call(model=self.model_string, purpose=purpose) as observed:
                response = await self.sdk.chat.completions.create(
                    model=self.endpoint.model,
                    messages=messages,  # type: ignore[arg-type]
                    temperature=temperature,
                    timeout=self.policy.timeout_seconds,
                    **extra,
                )
                if response.usage is not None:
                    observed.prompt_tokens = response.usage.prompt_tokens
                    observed.completion_tokens = response.usage.completion_tokens
                return response

        response = await with_retries(call, endpoint=self.endpoint, policy=self.policy)
        if self.meter is not None:
            usage = response.usage
            self.meter.record(
                self.model_string,
                prompt_tokens=usage.prompt_tokens if usage else 0,
                completion_tokens=usage.completion_tokens if usage else 0,
            )
        if not response.choices:
            raise PermanentError(
                f"{self.model_string} returned no choices",
                code="LLM_INVALID_OUTPUT",
                suggestion="Try again or choose another model.",
            )
        return response.choices[0].message.content or ""


class EmbeddingClient:
    """Embeddings on one model, with the same retries; used to build and query the index."""

    def __init__(self, sdk: AsyncOpenAI, *, endpoint: Endpoint, policy: RetryPolicy) -> None:
        self.sdk = sdk
        self.endpoint = endpoint
        self.policy = policy

    @property
    def model_string(self) -> str:
        return self.endpoint.model_string

    async def embed(self, texts: list[str]) -> list[list[float]]:
        async def call() -> Any:
            with observed_llm_call(model=self.model_string, purpose="embeddings") as observed:
                response = await self.sdk.embeddings.create(
                    model=self.endpoint.model, input=texts, timeout=self.policy.timeout_seconds
                )
                if response.usage is not None:
                    observed.prompt_tokens = response.usage.prompt_tokens
                return response

        response = await with_retries(call, endpoint=self.endpoint, policy=self.policy)
        return [item.embedding for item in sorted(response.data, key=lambda d: d.index)]
