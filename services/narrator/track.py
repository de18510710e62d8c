"""Beats' audio → one scene track and the beat timings the coder and renderer follow.

Beats are laid end to end with a short pause after each, so `start` of beat i is the sum
of the durations before it: code that waits for beat i lines up with its first word.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from services.narrator.pcm import SAMPLE_RATE
from shared.events import Beat

PAUSE_SECONDS = 0.35  # between sentences: a breath, and room for the picture to change


def assemble(texts: Sequence[str], audio: Sequence[np.ndarray]) -> tuple[np.ndarray, list[Beat]]:
    """The scene's track (beats and pauses) and each beat's timing, in seconds."""
    pause = np.zeros(round(PAUSE_SECONDS * SAMPLE_RATE), np.float32)
    pieces: list[np.ndarray] = []
    beats: list[Beat] = []
    at = 0  # samples
    for index, (text, samples) in enumerate(zip(texts, audio, strict=True)):
        last = index == len(texts) - 1
        spoken = len(samples)
        span = spoken + (0 if last else len(pause))
        pieces += [samples] if last else [samples, pause]
        beats.append(
            Beat(
                text=text,
                start_seconds=round(at / SAMPLE_RATE, 3),
                duration_seconds=round(span / SAMPLE_RATE, 3),
                spoken_seconds=round(spoken / SAMPLE_RATE, 3),
            )
        )
        at += span
    track = np.concatenate(pieces).astype(np.float32) if pieces else np.zeros(0, np.float32)
    return track, beats
