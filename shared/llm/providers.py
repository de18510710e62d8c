"""Which endpoint serves a model string, and one SDK client per endpoint.

`provider/model` picks a base URL and key from the settings: `openai/gpt-4o-mini`
(OPENAI_API_KEY; OPENAI_BASE_URL makes it any compatible server), `ollama/llama3.1`
(OLLAMA_BASE_URL), `vllm/…` (VLLM_BASE_URL), `openrouter/vendor/model`
(OPENROUTER_API_KEY). Everything after the first `/` is the provider's model name.
"""

from __future__ import annotations

from openai import AsyncOpenAI

from shared.llm.client import ChatClient, EmbeddingClient, Endpoint, RetryPolicy
from shared.llm.usage import UsageMeter
from shared.settings import Settings

OPENAI_URL = "https://api.openai.com/v1"
OPENROUTER_URL = "https://openrouter.ai/api/v1"


class UnknownModel(ValueError):
    """A model name no configured provider serves."""


def endpoint_for(model_string: str, settings: Settings) -> Endpoint:
    """The endpoint of `provider/model`; `UnknownModel` when it is not configured."""
    provider, sep, model = model_string.partition("/")
    if not sep or not model:
        raise UnknownModel(
            f"model {model_string!r}: expected 'builtin' or provider/model, "
            "e.g. openai/gpt-4o-mini, ollama/llama3.1, vllm/Qwen2.5-Coder, openrouter/x/y"
        )
    if provider == "openai":
        if not (settings.openai_api_key or settings.openai_base_url):
            raise UnknownModel(
                f"model {model_string!r} needs OPENAI_API_KEY "
                "(or OPENAI_BASE_URL for another OpenAI-compatible server)"
            )
        return Endpoint(
            model_string,
            settings.openai_base_url or OPENAI_URL,
            settings.openai_api_key.reveal() or "unused",
            model,
            "OPENAI_BASE_URL / OPENAI_API_KEY",
        )
    if provider == "ollama":
        return Endpoint(model_string, settings.ollama_base_url, "ollama", model, "OLLAMA_BASE_URL")
    if provider == "vllm":
        if not settings.vllm_base_url:
            raise UnknownModel(f"model {model_string!r} needs VLLM_BASE_URL")
        return Endpoint(
            model_string,
            settings.vllm_base_url,
            settings.vllm_api_key.reveal() or "EMPTY",
            model,
            "VLLM_BASE_URL / VLLM_API_KEY",
        )
    if provider == "openrouter":
        if not settings.openrouter_api_key:
            raise UnknownModel(f"model {model_string!r} needs OPENROUTER_API_KEY")
        return Endpoint(
            model_string,
            OPENROUTER_URL,
            settings.openrouter_api_key.reveal(),
            model,
            "OPENROUTER_API_KEY",
        )
    raise UnknownModel(
        f"model {model_string!r}: unknown provider {provider!r} "
        "(known: openai, ollama, vllm, openrouter, or 'builtin')"
    )


class LLMClients:
    """One SDK client per endpoint for a process; chat and embedding clients on top.

    Built once at start-up from the settings and passed down, so connections are
    pooled across jobs without any module-level state.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.policy = RetryPolicy(
            timeout_seconds=settings.llm_timeout_seconds,
            max_retries=settings.llm_max_retries,
            base_delay=settings.llm_retry_base_seconds,
        )
        self._sdks: dict[tuple[str, str], AsyncOpenAI] = {}

    def _sdk(self, endpoint: Endpoint) -> AsyncOpenAI:
        key = (endpoint.base_url, endpoint.api_key)
        if key not in self._sdks:
            # Retries are ours (client.py): the SDK's own would multiply them.
            self._sdks[key] = AsyncOpenAI(
                base_url=endpoint.base_url,
                api_key=endpoint.api_key,
                max_retries=0,
                timeout=self.policy.timeout_seconds,
            )
        return self._sdks[key]

    def chat(self, model_string: str, *, meter: UsageMeter | None = None) -> ChatClient:
        endpoint = endpoint_for(model_string, self.settings)
        return ChatClient(self._sdk(endpoint), endpoint=endpoint, policy=self.policy, meter=meter)

    def embeddings(self, model_string: str) -> EmbeddingClient:
        endpoint = endpoint_for(model_string, self.settings)
        return EmbeddingClient(self._sdk(endpoint), endpoint=endpoint, policy=self.policy)

    async def aclose(self) -> None:
        for sdk in self._sdks.values():
            await sdk.close()
        self._sdks.clear()
