"""The LLM client against the scripted server, through the real `openai` SDK."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from shared.errors import PermanentError, TransientError
from shared.llm.providers import LLMClients, UnknownModel, endpoint_for
from shared.llm.structured import ask_structured
from shared.llm.usage import UsageMeter
from shared.settings import Secret, Settings, load_settings
from tests.llm_server import Reply, ScriptedLLM


@pytest.fixture
def llm() -> Iterator[ScriptedLLM]:
    server = ScriptedLLM().start()
    yield server
    server.stop()


def _settings(base_url: str, **overrides: object) -> Settings:
    values = {"openai_base_url": base_url, "llm_retry_base_seconds": 0.05, **overrides}
    return load_settings({}, **values)


async def test_llm_client_waits_for_retry_after_then_succeeds(llm: ScriptedLLM):
    llm.on("hello", replies=[Reply(status=429, headers={"Retry-After": "1"}), "hi there"])
    meter = UsageMeter()
    chat = LLMClients(_settings(llm.base_url)).chat("openai/test-model", meter=meter)
    assert await chat.complete([{"role": "user", "content": "hello"}]) == "hi there"
    first, second = llm.requests("hello")
    assert second.at - first.at >= 0.95
    [usage] = meter.snapshot()
    assert (usage.model, usage.calls, usage.prompt_tokens) == ("openai/test-model", 1, 100)


async def test_llm_client_retries_5xx_within_its_budget_then_fails_permanently(llm: ScriptedLLM):
    llm.on("hello", replies=[Reply(status=503)])
    chat = LLMClients(_settings(llm.base_url, llm_max_retries=2)).chat("openai/m")
    with pytest.raises(PermanentError) as caught:
        await chat.complete([{"role": "user", "content": "hello"}])
    assert caught.value.code == "LLM_UNAVAILABLE"
    assert "OPENAI_BASE_URL" in caught.value.suggestion
    assert len(llm.requests("hello")) == 3


async def test_llm_client_rate_limit_beyond_budget_is_transient(llm: ScriptedLLM):
    llm.on("hello", replies=[Reply(status=429, headers={"retry-after-ms": "10"})])
    chat = LLMClients(_settings(llm.base_url, llm_max_retries=1)).chat("openai/m")
    with pytest.raises(TransientError) as caught:
        await chat.complete([{"role": "user", "content": "hello"}])
    assert caught.value.code == "LLM_RATE_LIMITED"
    assert len(llm.requests("hello")) == 2


async def test_llm_client_auth_error_is_not_retried(llm: ScriptedLLM):
    llm.on("hello", replies=[Reply(status=401)])
    chat = LLMClients(_settings(llm.base_url)).chat("openai/m")
    with pytest.raises(PermanentError) as caught:
        await chat.complete([{"role": "user", "content": "hello"}])
    assert caught.value.code == "LLM_AUTH_FAILED"
    assert len(llm.requests("hello")) == 1


async def test_llm_client_dead_endpoint_fails_with_code_and_suggestion():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    chat = LLMClients(_settings(f"http://127.0.0.1:{port}/v1", llm_max_retries=1)).chat("openai/m")
    with pytest.raises(PermanentError) as caught:
        await chat.complete([{"role": "user", "content": "hello"}])
    assert caught.value.code == "LLM_UNAVAILABLE"
    assert "could not be reached after 2 attempts" in caught.value.message


async def test_structured_answer_is_reasked_with_the_validation_error(llm: ScriptedLLM):
    import msgspec

    class Answer(msgspec.Struct):
        count: int

    llm.on("count", replies=['{"count": "three"}', '```json\n{"count": 3}\n```'])
    chat = LLMClients(_settings(llm.base_url)).chat("openai/m")
    answer = await ask_structured(
        chat, [{"role": "user", "content": "count in JSON"}], Answer, max_reasks=2
    )
    assert answer.count == 3
    first, second = llm.requests("count")
    assert "Expected `int`" in second.text and "invalid" in second.text
    assert first.body["response_format"] == {"type": "json_object"}


def test_endpoint_for_picks_the_provider_settings():
    settings = load_settings({}, vllm_base_url="http://gpu:8000/v1", openrouter_api_key=Secret("k"))
    assert endpoint_for("vllm/Qwen/Qwen2.5", settings).model == "Qwen/Qwen2.5"
    assert endpoint_for("ollama/llama3.1", settings).base_url.endswith(":11434/v1")
    assert endpoint_for("openrouter/a/b", settings).api_key == "k"
    for bad in ("openai/gpt-4o", "nope/model", "gpt-4o"):
        with pytest.raises(UnknownModel):
            endpoint_for(bad, settings)
