"""Narration costs: the default voice's real-time factor on 2 cores, a speech-cache hit, and
the wall time narration adds to a 6-scene low-quality job.

- `rtf`: synthesis seconds per second of speech for sentences of the built-in narrations
  (Piper en_US-joe-medium, and espeak-ng for comparison), pinned to 2 cores.
- `cache_hit_ms`: one beat read back from the JetStream object store (a real nats-server).
- `job`: the same 6-scene job with ENABLE_NARRATION=false and =true, each on a fresh stack
  (so nothing is cached), render cache off; wall time from submit to completed, and the
  video's length (narrated scenes last as long as their speech).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import TypedDict

from bench.stacks import bench_stack
from services.narrator.beats import plan_beats
from services.narrator.pcm import seconds
from services.narrator.speaking import SpeechCache, speak_beat
from services.narrator.voices import Voice, offline_voice
from services.planner.models.builtin.outline import build_outline, build_plan
from shared import subjects
from shared.artifacts import Artifacts
from shared.settings import load_settings
from videogen.client import VideogenClient
from videogen.natsd import running_nats_server
from videogen.topics import find_topic

TOPIC = "The Pythagorean Theorem"  # the built-in model plans six scenes for it
ROUNDS = 2


def _sentences() -> list[str]:
    topic = find_topic(TOPIC)
    outline = build_outline(topic.topic, topic.context)
    plans = [build_plan(topic.topic, topic.context, outline, s.number) for s in outline.scenes]
    return [beat for plan in plans for beat in plan_beats(plan)]


async def _rtf(voice: Voice, sentences: list[str]) -> dict[str, float]:
    await voice.speak("Warm up.")
    spoken = synth = 0.0
    for sentence in sentences:
        started = time.perf_counter()
        audio = await voice.speak(sentence)
        synth += time.perf_counter() - started
        spoken += seconds(audio)
    return {
        "rtf": round(synth / spoken, 4),
        "speech_seconds": round(spoken, 1),
        "synthesis_seconds": round(synth, 2),
    }


async def _cache_hit(voice: Voice, sentences: list[str]) -> dict[str, float]:
    import nats

    with tempfile.TemporaryDirectory() as folder, running_nats_server(Path(folder)) as server:
        connection = await nats.connect(server.url)
        js = connection.jetstream()
        store = await js.create_object_store(subjects.ARTIFACTS_BUCKET)
        cache = SpeechCache(Artifacts(store))
        misses, hits = [], []
        for sentence in sentences[:8]:
            started = time.perf_counter()
            await speak_beat(voice, sentence, cache)
            misses.append(time.perf_counter() - started)
            started = time.perf_counter()
            await speak_beat(voice, sentence, cache)
            hits.append(time.perf_counter() - started)
        await connection.close()
    return {
        "miss_ms_median": round(statistics.median(misses) * 1000, 1),
        "hit_ms_median": round(statistics.median(hits) * 1000, 1),
    }


class JobRun(TypedDict):
    wall_seconds: float
    scenes: int
    video_seconds: float
    voice: str | None


def _job(narrated: bool) -> JobRun:
    topic = find_topic(TOPIC)
    with bench_stack(
        DEFAULT_QUALITY="low", RENDER_CACHE_MB="0", ENABLE_NARRATION=str(narrated).lower()
    ) as stack:
        client = VideogenClient(stack.base_url)
        started = time.perf_counter()
        job_id = client.generate(topic.topic, topic.context, quality="low")["job_id"]
        final = list(client.watch(job_id, interval=0.1))[-1]
        wall = time.perf_counter() - started
        assert final["status"] == "completed", final
    return {
        "wall_seconds": round(wall, 2),
        "scenes": len(final["scenes"]),
        "video_seconds": round(sum(s["duration_seconds"] or 0 for s in final["scenes"]), 1),
        "voice": final.get("voice"),
    }


def run() -> dict[str, object]:
    if hasattr(os, "sched_setaffinity") and len(os.sched_getaffinity(0)) > 2:
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:2])
    settings = load_settings({})
    sentences = _sentences()
    piper = offline_voice(settings)
    espeak = offline_voice(settings, engine="espeak-ng")
    result: dict[str, object] = {
        "cores": len(os.sched_getaffinity(0)),
        "sentences": len(sentences),
        "rtf": {
            piper.name: asyncio.run(_rtf(piper, sentences)),
            espeak.name: asyncio.run(_rtf(espeak, sentences)),
        },
        "cache": asyncio.run(_cache_hit(piper, sentences)),
    }
    runs: dict[bool, list[JobRun]] = {False: [], True: []}
    for _ in range(ROUNDS):
        for narrated in (False, True):
            runs[narrated].append(_job(narrated))
    silent = statistics.median(r["wall_seconds"] for r in runs[False])
    spoken = statistics.median(r["wall_seconds"] for r in runs[True])
    result["job"] = {
        "topic": TOPIC,
        "quality": "low",
        "silent": runs[False],
        "narrated": runs[True],
        "silent_wall_median": silent,
        "narrated_wall_median": spoken,
        "added_wall_seconds": round(spoken - silent, 2),
    }
    return result
