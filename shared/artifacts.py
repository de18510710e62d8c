"""Intermediate artifacts (plans, code, clips, combined videos) in the JetStream object store.

Every replica of every stage reaches the same store through NATS, so no shared volume is
needed between stages. Names are built here and nowhere else.
"""

from __future__ import annotations

from pathlib import Path

from nats.js.errors import NotFoundError, ObjectNotFoundError
from nats.js.object_store import ObjectStore


def outline_name(job_id: str) -> str:
    return f"{job_id}/outline.json"


def _scene_folder(job_id: str, scene: int, revision: int = 1) -> str:
    """Where a scene's plan and speech live; a revision that re-plans it gets its own
    folder, so a revision that fails never changes what the stored video was made of."""
    folder = f"{job_id}/scenes/{scene:02d}"
    return folder if revision <= 1 else f"{folder}/r{revision}"


def plan_name(job_id: str, scene: int, revision: int = 1) -> str:
    return f"{_scene_folder(job_id, scene, revision)}/plan.json"


def narration_name(job_id: str, scene: int, revision: int = 1) -> str:
    """A scene's `Narration` (voice, beats, audio artifact) as JSON."""
    return f"{_scene_folder(job_id, scene, revision)}/narration.json"


def speech_name(job_id: str, scene: int, revision: int = 1) -> str:
    """A scene's speech track (WAV), all its beats one after another."""
    return f"{_scene_folder(job_id, scene, revision)}/speech.wav"


def rendered_name(job_id: str, scene: int) -> str:
    """The `scene.coded` whose render is the scene's current clip (JSON): what a revision
    that leaves the scene unchanged renders again, from the render cache."""
    return f"{job_id}/scenes/{scene:02d}/rendered.json"


def code_name(job_id: str, scene: int, attempt: int) -> str:
    return f"{job_id}/scenes/{scene:02d}/code-{attempt}.py"


def rewrites_name(job_id: str, scene: int, attempt: int) -> str:
    """The API rewrites the coder applied to that attempt's code (JSON; only when any)."""
    return f"{job_id}/scenes/{scene:02d}/rewrites-{attempt}.json"


def clip_name(job_id: str, scene: int) -> str:
    return f"{job_id}/scenes/{scene:02d}/clip.mp4"


def kept_clip_name(job_id: str, scene: int) -> str:
    """A clip the layout check sent back for repair, kept in case the repair is no better."""
    return f"{job_id}/scenes/{scene:02d}/clip-kept.mp4"


def kept_layout_name(job_id: str, scene: int) -> str:
    """What the renderer knows of the kept clip (attempt, length, findings; JSON)."""
    return f"{job_id}/scenes/{scene:02d}/layout-kept.json"


def sliced_code_name(job_id: str, scene: int, key: str, suffix: str = ".py") -> str:
    """A sliced scene's code as its owner renders it (``.py``) and its compiled LaTeX
    (``.tex.zip``), for the replicas rendering slices."""
    return f"{job_id}/scenes/{scene:02d}/slices/{key[:16]}{suffix}"


def slice_name(job_id: str, scene: int, key: str, start: int, end: int | None) -> str:
    """One slice's outputs (``.mp4``, ``.json``, ``.failed.json`` are appended); ``end``
    None is the slice that runs to the scene's end."""
    return f"{job_id}/scenes/{scene:02d}/slices/{key[:16]}-{start}-{'end' if end is None else end}"


def video_name(job_id: str) -> str:
    return f"{job_id}/combined.mp4"


def user_code_name(job_id: str) -> str:
    """A render-only job's Manim code, as the client sent it."""
    return f"{job_id}/user-code.py"


def subtitles_name(job_id: str, fmt: str) -> str:
    """The combined video's subtitles; `fmt` is "srt" or "vtt"."""
    return f"{job_id}/subtitles.{fmt}"


CACHE_PREFIX = "cache/"


def cache_clip_name(key: str) -> str:
    """A rendered clip in the renderer's content-addressed cache (shared by all jobs)."""
    return f"{CACHE_PREFIX}{key}.mp4"


def cache_speech_name(key: str) -> str:
    """A synthesized beat in the narrator's cache, keyed by (engine, voice, text)."""
    return f"{CACHE_PREFIX}tts/{key}.wav"


class ArtifactMissing(LookupError):
    """An event names an artifact that is not (or no longer) stored."""


class Artifacts:
    """Put and get artifacts by name."""

    def __init__(self, store: ObjectStore) -> None:
        self.store = store

    async def put_bytes(self, name: str, data: bytes) -> str:
        await self.store.put(name, data)
        return name

    async def get_bytes(self, name: str) -> bytes:
        try:
            result = await self.store.get(name)
        except (ObjectNotFoundError, NotFoundError) as exc:
            raise ArtifactMissing(name) from exc
        return result.data or b""

    async def put_file(self, name: str, path: Path) -> str:
        with path.open("rb") as source:
            await self.store.put(name, source)
        return name

    async def get_file(self, name: str, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with path.open("wb") as target:
                await self.store.get(name, writeinto=target)
        except (ObjectNotFoundError, NotFoundError) as exc:
            path.unlink(missing_ok=True)
            raise ArtifactMissing(name) from exc
        return path

    async def delete_job(self, job_id: str) -> int:
        """Remove every artifact of a job; returns how many were removed."""
        try:
            objects = await self.store.list(ignore_deletes=True)
        except NotFoundError:
            return 0
        removed = 0
        for info in objects:
            if info.name.startswith(f"{job_id}/"):
                await self.store.delete(info.name)
                removed += 1
        return removed
