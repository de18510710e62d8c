"""The narrator's speech cache in the real JetStream object store, with a real voice."""

from __future__ import annotations

import numpy as np
import pytest

from services.narrator.loudness import integrated_loudness
from services.narrator.speaking import SpeechCache, speak_all, speak_beat
from services.narrator.voices import offline_voice
from shared import subjects
from shared.artifacts import Artifacts
from shared.broker import connect, ensure_topology
from shared.errors import JobGone


class Counted:
    """A real voice that counts how often it is asked to speak."""

    def __init__(self, voice) -> None:
        self.voice, self.name, self.calls = voice, voice.name, 0

    async def speak(self, text: str) -> np.ndarray:
        self.calls += 1
        return await self.voice.speak(text)


@pytest.fixture
async def cache(settings):
    connection = await connect(settings)
    js = connection.jetstream()
    await ensure_topology(js, settings)
    yield SpeechCache(Artifacts(await js.object_store(subjects.ARTIFACTS_BUCKET)))
    await connection.close()


async def test_a_spoken_sentence_is_cached_by_voice_and_text(cache, settings):
    voice = Counted(offline_voice(settings, engine="espeak-ng"))
    first = await speak_beat(voice, "Speech is cached by voice and text.", cache)
    again = await speak_beat(voice, "Speech is cached by voice and text.", cache)
    assert voice.calls == 1
    assert np.allclose(first, again, atol=1e-4)
    assert integrated_loudness(first) == pytest.approx(-16, abs=1)
    await speak_beat(voice, "Another sentence entirely.", cache)
    assert voice.calls == 2


async def test_speaking_stops_when_the_job_is_gone(cache, settings):
    voice = Counted(offline_voice(settings, engine="espeak-ng"))
    asked = []

    async def before_each() -> None:
        asked.append(1)
        if len(asked) == 2:
            raise JobGone("job")

    with pytest.raises(JobGone):
        await speak_all(
            voice,
            ["First words here.", "Second words here.", "Third."],
            cache,
            before_each=before_each,
        )
    assert voice.calls == 1
