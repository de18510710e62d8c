"""The renderer's side of a narrated scene: beat helpers in, speech-sized clip with sound out.

Called from the handlers around a render: `narrated_code` appends the beat helpers
(`shared.scene_timing`) to the scene's code; `with_speech` fetches the narrator's speech
track and gives the rendered clip its audio and exact length (`soundtrack`). A scene
without narration passes through both unchanged.
"""

from __future__ import annotations

import asyncio
import io
import wave
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from services.renderer.soundtrack import AUDIO_RATE, score_clip
from shared.events import SceneCoded
from shared.scene_timing import with_timing_helpers
from shared.service import StageDeps


@dataclass(frozen=True)
class SceneClip:
    """The clip to store for a scene, its length and any warnings about it."""

    path: Path
    duration_seconds: float
    warnings: list[str] = field(default_factory=list)


def narrated_code(code: str, event: SceneCoded) -> str:
    """The code to render: with the beat helpers when the scene is narrated."""
    return code if event.narration is None else with_timing_helpers(code, event.narration)


async def with_speech(
    deps: StageDeps, event: SceneCoded, clip: Path, duration: float, workdir: Path
) -> SceneClip:
    """The rendered clip with its speech muxed in, held to the speech's length."""
    if event.narration is None:
        return SceneClip(clip, duration)
    speech = np.zeros(0, np.float32)
    if event.narration.audio_ref:
        speech = read_wav(await deps.artifacts.get_bytes(event.narration.audio_ref))
    scored = await asyncio.to_thread(score_clip, clip, speech, workdir / "narrated.mp4")
    return SceneClip(scored.path, scored.duration_seconds, scored.warnings)


def read_wav(data: bytes) -> np.ndarray:
    """The narrator's 16-bit mono 48 kHz WAV as float samples."""
    with wave.open(io.BytesIO(data), "rb") as source:
        if (source.getframerate(), source.getsampwidth(), source.getnchannels()) != (
            AUDIO_RATE,
            2,
            1,
        ):
            raise ValueError("speech track is not 16-bit mono 48 kHz WAV")
        pcm = np.frombuffer(source.readframes(source.getnframes()), dtype="<i2")
    return pcm.astype(np.float32) / 32767
