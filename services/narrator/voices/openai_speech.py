"""`openai/<model>`: the OpenAI SDK's speech endpoint, or any server that speaks its API.

TTS_BASE_URL (else OPENAI_BASE_URL, else api.openai.com) and OPENAI_API_KEY pick the
server; TTS_VOICE the voice (`alloy` by default). The SDK retries 429/5xx/timeouts
LLM_MAX_RETRIES times; after that the voice is unavailable and TTS_FALLBACK decides.
"""

from __future__ import annotations

import numpy as np
import openai
from openai import AsyncOpenAI

from services.narrator.pcm import decode
from services.narrator.voices import VoiceUnavailable
from shared.settings import Settings

DEFAULT_VOICE = "alloy"
OPENAI_URL = "https://api.openai.com/v1"


class OpenAISpeech:
    """Speech from `/audio/speech`, asked for as WAV and decoded to our format."""

    def __init__(self, client: AsyncOpenAI, *, model: str, voice: str, model_string: str) -> None:
        self.client = client
        self.model = model
        self.voice = voice
        self.name = f"{model_string}:{voice}"

    @classmethod
    def from_settings(cls, settings: Settings) -> OpenAISpeech:
        base_url = settings.tts_base_url or settings.openai_base_url
        key = settings.openai_api_key.reveal()
        if not (key or base_url):
            raise VoiceUnavailable(
                f"TTS_MODEL={settings.tts_model} needs OPENAI_API_KEY or TTS_BASE_URL"
            )
        client = AsyncOpenAI(
            base_url=base_url or OPENAI_URL,
            api_key=key or "unused",
            timeout=settings.llm_timeout_seconds,
            max_retries=settings.llm_max_retries,
        )
        return cls(
            client,
            model=settings.tts_model.partition("/")[2],
            voice=settings.tts_voice or DEFAULT_VOICE,
            model_string=settings.tts_model,
        )

    async def speak(self, text: str) -> np.ndarray:
        try:
            response = await self.client.audio.speech.create(
                model=self.model,
                voice=self.voice,
                input=text,
                response_format="wav",
            )
        except (openai.APIConnectionError, openai.APIStatusError) as exc:
            raise VoiceUnavailable(f"{self.name} failed: {_describe(exc)}") from exc
        data = response.read()
        try:
            return decode(data)
        except Exception as exc:  # PyAV's error types: the server sent no audio
            raise VoiceUnavailable(f"{self.name} answered with no readable audio") from exc


def _describe(exc: openai.APIError) -> str:
    if isinstance(exc, openai.APIStatusError):
        return f"HTTP {exc.status_code}"
    return type(exc).__name__
