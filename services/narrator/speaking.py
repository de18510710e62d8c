"""Speaking a scene's beats: each one cached by (voice, text), trimmed and normalised.

The cache lives in the artifact store, so every narrator replica shares it and a
redelivered scene (a replica killed mid-job) costs lookups, not synthesis.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Sequence

import numpy as np

from services.narrator.loudness import normalise
from services.narrator.pcm import from_wav, to_wav, trim
from services.narrator.voices import Voice
from shared import artifacts
from shared.artifacts import ArtifactMissing, Artifacts

FORMAT = "v1-48k-mono-trim-16lufs"  # changes when what is cached changes


def cache_key(voice: str, text: str) -> str:
    """The cache name of one sentence spoken by one voice (engine:voice)."""
    return hashlib.sha256(f"{FORMAT}\0{voice}\0{text}".encode()).hexdigest()


class SpeechCache:
    """Spoken beats in the object store, by `cache_key`."""

    def __init__(self, store: Artifacts) -> None:
        self.store = store

    async def get(self, key: str) -> np.ndarray | None:
        try:
            return from_wav(await self.store.get_bytes(artifacts.cache_speech_name(key)))
        except ArtifactMissing:
            return None

    async def put(self, key: str, samples: np.ndarray) -> None:
        await self.store.put_bytes(artifacts.cache_speech_name(key), to_wav(samples))


async def speak_beat(voice: Voice, text: str, cache: SpeechCache) -> np.ndarray:
    """One beat's audio: from the cache, else spoken, trimmed, normalised and cached."""
    key = cache_key(voice.name, text)
    cached = await cache.get(key)
    if cached is not None:
        return cached
    samples = normalise(trim(await voice.speak(text)))
    await cache.put(key, samples)
    return samples


async def speak_all(
    voice: Voice,
    texts: Sequence[str],
    cache: SpeechCache,
    *,
    before_each: Callable[[], Awaitable[None]],
) -> list[np.ndarray]:
    """Every beat in order; `before_each` runs first each time (it raises to stop)."""
    spoken = []
    for text in texts:
        await before_each()
        spoken.append(await speak_beat(voice, text, cache))
    return spoken
