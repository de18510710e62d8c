"""Timed subtitles for a combined video, from each scene's narration.

A scene's narration is split into sentence-sized cues whose durations are proportional to
their length, spread over exactly that scene's span of the video (from the combine step's
scene offsets). So cues never cross a scene boundary, and when every scene has narration
the cues cover the whole video without gaps.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Cue", "scene_cues", "to_srt", "to_vtt"]

MAX_CUE_CHARS = 84  # two subtitle lines of about 42 characters
_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+")


@dataclass(frozen=True)
class Cue:
    """One subtitle: shown from ``start_ms`` to ``end_ms`` of the video."""

    start_ms: int
    end_ms: int
    text: str


def scene_cues(
    narrations: Sequence[str | None], offsets: Sequence[float], duration_seconds: float
) -> list[Cue]:
    """Cues for every scene; scene i spans ``offsets[i]`` up to the next offset (or the end).

    A scene without narration gets no cues.
    """
    if len(narrations) != len(offsets):
        raise ValueError("one narration (or None) per scene offset is needed")
    bounds = [*offsets, duration_seconds]
    cues: list[Cue] = []
    for index, narration in enumerate(narrations):
        start_ms, end_ms = _ms(bounds[index]), _ms(bounds[index + 1])
        parts = _chunks(narration or "")
        if not parts or end_ms <= start_ms:
            continue
        weights = [len(part) for part in parts]
        total = sum(weights)
        elapsed = 0
        for part, weight in zip(parts, weights, strict=True):
            cue_start = start_ms + (end_ms - start_ms) * elapsed // total
            elapsed += weight
            cue_end = start_ms + (end_ms - start_ms) * elapsed // total
            if cue_end > cue_start:
                cues.append(Cue(cue_start, cue_end, part))
    return cues


def to_srt(cues: Sequence[Cue]) -> str:
    """SubRip: numbered blocks, ``HH:MM:SS,mmm --> HH:MM:SS,mmm``."""
    blocks = [
        f"{number}\n{_stamp(cue.start_ms, ',')} --> {_stamp(cue.end_ms, ',')}\n{cue.text}\n"
        for number, cue in enumerate(cues, start=1)
    ]
    return "\n".join(blocks)


def to_vtt(cues: Sequence[Cue]) -> str:
    """WebVTT: a header, then ``HH:MM:SS.mmm --> HH:MM:SS.mmm`` blocks."""
    blocks = [
        f"{_stamp(cue.start_ms, '.')} --> {_stamp(cue.end_ms, '.')}\n{cue.text}\n" for cue in cues
    ]
    return "\n".join(["WEBVTT\n", *blocks])


def _chunks(narration: str) -> list[str]:
    """Sentences, with long ones cut at word boundaries into cue-sized pieces."""
    text = " ".join(narration.split())
    if not text:
        return []
    chunks: list[str] = []
    for sentence in _SENTENCE_END.split(text):
        line = ""
        for word in sentence.split(" "):
            if line and len(line) + 1 + len(word) > MAX_CUE_CHARS:
                chunks.append(line)
                line = word
            else:
                line = f"{line} {word}" if line else word
        if line:
            chunks.append(line)
    # "-->" would end a cue's timing line early in both formats.
    return [chunk.replace("-->", "→") for chunk in chunks]


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


def _stamp(ms: int, separator: str) -> str:
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}{separator}{millis:03d}"
