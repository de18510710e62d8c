"""How long the built-in model's videos are against the `target_minutes` asked for.

For every bundled topic and targets of 1, 3 and 5 minutes: the planned scenes, beats and
words, and the narrated length — each beat really spoken by the default voice (Piper), so
the seconds are the speech the renderer holds each clip to, plus its pauses and tails
(`PAUSE_SECONDS` between beats, `TAIL_SECONDS` after each scene). No rendering: a narrated
clip lasts exactly that long (tests/e2e/test_target_minutes.py checks it on real videos).
"""

from __future__ import annotations

import asyncio
import statistics

from services.narrator.beats import plan_beats
from services.narrator.pcm import seconds
from services.narrator.track import PAUSE_SECONDS
from services.narrator.voices import Voice, offline_voice
from services.planner.budget import scene_budget
from services.planner.models.builtin.outline import build_outline, build_plan
from shared.scene_timing import TAIL_SECONDS
from shared.settings import load_settings
from videogen.topics import Topic, load_topics

TARGETS = (1.0, 3.0, 5.0)


async def _video_seconds(
    voice: Voice, topic: Topic, minutes: float, spoken: dict[str, float]
) -> dict[str, float]:
    budget = scene_budget(minutes)
    outline = build_outline(topic.topic, topic.context, budget)
    plans = [
        build_plan(topic.topic, topic.context, outline, s.number, budget) for s in outline.scenes
    ]
    total = 0.0
    for plan in plans:
        beats = plan_beats(plan)
        for beat in beats:
            if beat not in spoken:
                spoken[beat] = seconds(await voice.speak(beat))
        total += sum(spoken[b] for b in beats) + PAUSE_SECONDS * (len(beats) - 1) + TAIL_SECONDS
    return {
        "scenes": len(plans),
        "beats": sum(len(p.beats) for p in plans),
        "words": sum(len(p.narration.split()) for p in plans),
        "seconds": round(total, 1),
    }


async def _measure() -> dict[str, object]:
    voice = offline_voice(load_settings({}))
    spoken: dict[str, float] = {}
    per_target: dict[str, object] = {}
    for minutes in TARGETS:
        rows = {t.topic: await _video_seconds(voice, t, minutes, spoken) for t in load_topics()}
        lengths = [r["seconds"] for r in rows.values()]
        per_target[f"{minutes:g}"] = {
            "target_seconds": 60 * minutes,
            "median_seconds": round(statistics.median(lengths), 1),
            "min_seconds": min(lengths),
            "max_seconds": max(lengths),
            "within_20_percent": sum(abs(s - 60 * minutes) <= 12 * minutes for s in lengths),
            "median_scenes": statistics.median(r["scenes"] for r in rows.values()),
            "longest": max(rows.items(), key=lambda item: item[1]["seconds"]),
        }
    return {"voice": voice.name, "topics": len(load_topics()), "targets": per_target}


def run() -> dict[str, object]:
    return asyncio.run(_measure())
