"""Subtitles cut from what is actually spoken: each beat's cue starts with its first word.

A narrated scene's cues come from the narrator's beat timings (shifted by the scene's
offset in the joined video), so a cue appears when its sentence is heard and leaves when
it ends; a sentence too long for one cue is cut into pieces timed by length within the
beat. Scenes without beats keep the length-proportional cues of `subtitles.scene_cues`.
"""

from __future__ import annotations

from collections.abc import Sequence

from services.renderer.subtitles import Cue, _chunks, _ms, scene_cues
from shared.events import Beat, Narration


def spoken_cues(
    narrations: Sequence[Narration | None],
    texts: Sequence[str | None],
    offsets: Sequence[float],
    duration_seconds: float,
) -> list[Cue]:
    """Cues for every scene: from its beats when narrated, else from its text."""
    bounds = [*offsets, duration_seconds]
    cues: list[Cue] = []
    for index, narration in enumerate(narrations):
        if narration is not None and narration.beats:
            cues += _beat_cues(narration.beats, offsets[index], end=bounds[index + 1])
        else:
            cues += scene_cues([texts[index]], [offsets[index]], bounds[index + 1])
    return cues


def _beat_cues(beats: Sequence[Beat], offset: float, *, end: float) -> list[Cue]:
    cues: list[Cue] = []
    for beat in beats:
        start = offset + beat.start_seconds
        stop = min(start + beat.spoken_seconds, end)
        parts = _chunks(beat.text)
        if not parts or stop <= start:
            continue
        total = sum(len(part) for part in parts)
        elapsed = 0
        for part in parts:
            cue_start = start + (stop - start) * elapsed / total
            elapsed += len(part)
            cue_end = start + (stop - start) * elapsed / total
            cues.append(Cue(_ms(cue_start), _ms(cue_end), part))
    return cues
