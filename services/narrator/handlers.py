"""Narrator: scene.planned → scene.narrated (beats, durations, speech track).

Runs inside `scenario_creation`: a job's context says whether it is narrated (decided
once, by the gateway); when it is not, the coder takes `scene.planned` itself and this
stage acks without work. The voice loads at start-up, never inside a job.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import msgspec
import numpy as np

from services.narrator.beats import plan_beats
from services.narrator.pcm import seconds, to_wav
from services.narrator.speaking import SpeechCache, speak_all
from services.narrator.track import assemble
from services.narrator.voices import Voice, VoiceUnavailable, configured_voice, offline_voice
from shared import artifacts
from shared.broker import CONSUMERS
from shared.errors import JobGone, PermanentError
from shared.events import Narration, SceneNarrated, ScenePlanned
from shared.logs import timed
from shared.plans import ScenePlan
from shared.service import StageDeps

log = logging.getLogger("videogen.narrator")
STAGE = "scenario_creation"


@dataclass
class Narrator:
    """The voices and cache one narrator process uses."""

    deps: StageDeps
    voice: Voice | None  # None: the configured voice failed to set up (see fallback)
    cache: SpeechCache
    setup_error: str = ""
    _offline: Voice | None = field(default=None, init=False)

    def offline(self) -> Voice:
        if self._offline is None:
            self._offline = offline_voice(self.deps.settings)
        return self._offline


async def register(deps: StageDeps) -> None:
    voice, error = None, ""
    try:
        with timed(log, "voice loaded", tts_model=deps.settings.tts_model):
            voice = await asyncio.to_thread(configured_voice, deps.settings)
    except VoiceUnavailable as exc:
        error = str(exc)
        log.warning("configured voice unavailable: %s", error)
    narrator = Narrator(deps, voice, SpeechCache(deps.artifacts), setup_error=error)

    async def on_scene_planned(event: ScenePlanned) -> None:
        if event.context.narrate:
            await narrate_scene(narrator, event)

    deps.runner.subscribe(
        deps.broker,
        CONSUMERS["narrator"],
        ScenePlanned,
        on_scene_planned,
        stage=STAGE,
        concurrency=deps.settings.max_scene_concurrency,
    )
    # High and urgent jobs' scenes: a slot of their own, never behind the normal backlog.
    deps.runner.subscribe(
        deps.broker,
        CONSUMERS["narrator-priority"],
        ScenePlanned,
        on_scene_planned,
        stage=STAGE,
    )


async def narrate_scene(narrator: Narrator, event: ScenePlanned) -> None:
    deps = narrator.deps
    number = event.scene_number
    await deps.bus.progress(event, STAGE, scene=number, detail=f"voicing scene {number}")
    plan = msgspec.json.decode(await deps.artifacts.get_bytes(event.plan_ref), type=ScenePlan)
    texts = plan_beats(plan)

    async def still_wanted() -> None:
        view = await deps.jobs.get(event.user_id, event.job_id)
        if view is None or view.is_terminal:
            raise JobGone(event.job_id)

    with timed(log, "narration", scene=number, beats=len(texts)) as outcome:
        voice, audio, reason = await _speak(narrator, texts, still_wanted)
        track, beats = assemble(texts, audio)
        outcome.update(voice=voice.name, speech_seconds=round(seconds(track), 2))
    audio_ref = None
    if len(track):
        audio_ref = await deps.artifacts.put_bytes(
            artifacts.speech_name(event.job_id, number, event.context.revision), to_wav(track)
        )
    narration = Narration(
        voice=voice.name,
        beats=beats,
        audio_ref=audio_ref,
        speech_seconds=round(seconds(track), 3),
    )
    await deps.artifacts.put_bytes(
        artifacts.narration_name(event.job_id, number, event.context.revision),
        msgspec.json.encode(narration),
    )
    await deps.bus.publish(
        SceneNarrated(
            job_id=event.job_id,
            user_id=event.user_id,
            context=event.context,
            scene_number=number,
            scene_count=event.scene_count,
            title=event.title,
            plan_ref=event.plan_ref,
            narration=narration,
            client_code_ref=event.client_code_ref,
            class_name=event.class_name,
            fallback_reason=reason,
        )
    )
    await deps.bus.progress(  # part-way through the stage: a progress of its own
        event,
        STAGE,
        scene=number,
        fraction=0.5,
        detail=f"scene {number} voiced by {voice.name}: {len(beats)} beats, "
        f"{narration.speech_seconds:.1f} s",
    )


async def _speak(
    narrator: Narrator, texts: list[str], still_wanted: Callable[[], Awaitable[None]]
) -> tuple[Voice, list[np.ndarray], str | None]:
    """(voice, audio per beat, fallback reason): the configured voice, else per TTS_FALLBACK."""
    settings = narrator.deps.settings
    reason = narrator.setup_error
    if narrator.voice is not None:
        try:
            audio = await speak_all(narrator.voice, texts, narrator.cache, before_each=still_wanted)
            return narrator.voice, audio, None
        except VoiceUnavailable as exc:
            reason = str(exc)
    if settings.tts_fallback != "offline" or settings.tts_model in ("builtin", "espeak-ng"):
        raise _unavailable(settings.tts_model, reason)
    log.warning(
        "voice %s unavailable, falling back to the offline voice: %s", settings.tts_model, reason
    )
    try:
        voice = await asyncio.to_thread(narrator.offline)
        audio = await speak_all(voice, texts, narrator.cache, before_each=still_wanted)
    except VoiceUnavailable as exc:
        raise _unavailable(settings.tts_model, f"{reason}; the offline voice too: {exc}") from exc
    return voice, audio, f"{settings.tts_model}: {reason}"


def _unavailable(model: str, reason: str) -> PermanentError:
    return PermanentError(
        f"the voice {model} is unavailable: {reason}",
        code="TTS_UNAVAILABLE",
        stage=STAGE,
        suggestion="Check TTS_MODEL / TTS_BASE_URL, or set TTS_FALLBACK=offline "
        "to use the built-in voice when it is down.",
    )
