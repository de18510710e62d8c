"""Narrated videos end to end: real speech (Piper offline, or the OpenAI SDK against a local
speech server), real renders, and measurements on the decoded MP4 the user downloads."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared import artifacts, subjects
from shared.jobview import user_key
from shared.scene_timing import TAIL_SECONDS
from tests.e2e import narration_checks as check
from tests.e2e.helpers import submit, terminal, wait_for
from tests.speech_server import SpeechServer
from videogen.stack import Stack, isolated_stack

pytestmark = pytest.mark.e2e

SLACK = 0.1 + 1 / 15  # a clip may end this much short of speech + tail (no re-encode for it)
SECRET = "sk-test-do-not-log-4242"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with isolated_stack(
        tmp_path_factory.mktemp("narrated"), DEFAULT_QUALITY="low", ACK_WAIT_SECONDS="4"
    ) as running:
        yield running


@pytest.fixture(scope="module")
def api(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.base_url, timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def job(api: httpx.Client, stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> dict:
    job_id = submit(api, "The Pythagorean Theorem", {}, target_minutes=0.5)  # 4 short scenes
    status, _ = wait_for(api, job_id, {}, terminal, timeout=400)
    assert status["status"] == "completed", status.get("error")
    folder = tmp_path_factory.mktemp("download")
    video = folder / "video.mp4"
    video.write_bytes(api.get(f"/api/v1/videos/jobs/{job_id}/download").content)
    scenes = api.get(f"/api/v1/videos/jobs/{job_id}/scenes").json()["scenes"]
    clips = asyncio.run(_clips(stack, job_id, [s["scene_number"] for s in scenes], folder))
    return {"id": job_id, "status": status, "video": video, "scenes": scenes, "clips": clips}


async def _clips(stack: Stack, job_id: str, numbers: list[int], folder: Path) -> list[Path]:
    """Each scene's clip as the renderer stored it (the JetStream object store)."""
    connection = await stack.connect("gateway")  # a user that may read artifacts
    store = await connection.jetstream().object_store(subjects.ARTIFACTS_BUCKET)
    paths = []
    for number in numbers:
        path = folder / f"clip-{number}.mp4"
        data = (await store.get(artifacts.clip_name(job_id, number))).data
        assert data is not None
        path.write_bytes(data)
        paths.append(path)
    await connection.close()
    return paths


def _offsets(status: dict[str, Any]) -> list[float]:
    durations = [scene["duration_seconds"] for scene in status["scenes"]]
    return [0.0, *itertools.accumulate(durations)][:-1]


def test_offline_voice_makes_one_mp4_with_one_video_and_one_audio_stream(job):
    assert job["status"]["voice"] == "piper:en_US-joe-medium"
    assert check.stream_kinds(job["video"]) == ["video", "audio"]
    assert all(scene["voice"] == "piper:en_US-joe-medium" for scene in job["scenes"])
    assert all(scene["beats"] for scene in job["scenes"])
    stages = [stage["stage"] for stage in job["status"]["stages"]]
    assert stages == [
        "initializing",
        "planning",
        "scenario_creation",
        "code_generation",
        "rendering",
        "combining",
        "storage",
        "completed",
    ]
    assert "voicing" in next(
        s["description"] for s in job["status"]["stages"] if s["stage"] == "scenario_creation"
    )


def test_every_scene_clip_starts_together_and_lasts_its_speech_plus_tail(job):
    for scene, clip in zip(job["scenes"], job["clips"], strict=True):
        spans = check.stream_spans(clip)
        (video_start, video_length), (audio_start, audio_length) = spans["video"], spans["audio"]
        assert abs(video_start - audio_start) <= 0.02, (scene["scene_number"], spans)
        assert abs(video_length - audio_length) <= 0.1, (scene["scene_number"], spans)
        speech = scene["speech_seconds"]
        assert video_length >= speech + TAIL_SECONDS - SLACK, (scene["scene_number"], spans)
        if not scene["warnings"]:  # a scene held to its speech is exactly speech + tail
            assert video_length <= speech + TAIL_SECONDS + 0.07 or video_length <= 1.5 * speech + 3


def test_speech_energy_fills_every_beat_and_none_is_cut_off(job):
    audio = check.decoded_audio(job["video"])
    offsets = _offsets(job["status"])
    ends = [
        o + s["duration_seconds"] for o, s in zip(offsets, job["status"]["scenes"], strict=True)
    ]
    for scene, offset, end in zip(job["scenes"], offsets, ends, strict=True):
        for beat in scene["beats"]:
            start = offset + beat["start_seconds"]
            stop = start + beat["spoken_seconds"]
            assert stop <= end - TAIL_SECONDS + SLACK, (scene["scene_number"], beat, end)
            assert check.level_db(check.window(audio, start, stop)) > -30, beat
            # its last quarter second still speaks: the sentence is heard to its end
            assert check.level_db(check.window(audio, stop - 0.25, stop)) > -45, beat
        # and the tail after the last word is quiet
        tail = check.window(audio, end - TAIL_SECONDS + SLACK + 0.05, end - 0.05)
        assert check.level_db(tail) < -50, scene["scene_number"]


def test_subtitle_cues_start_at_the_speech_onsets(job, api: httpx.Client):
    vtt = api.get(f"/api/v1/videos/jobs/{job['id']}/subtitles?format=vtt")
    assert vtt.status_code == 200
    cues = check.vtt_cues(vtt.text)
    heard = check.onsets(check.decoded_audio(job["video"]))
    beat_starts = [
        offset + beat["start_seconds"]
        for offset, scene in zip(_offsets(job["status"]), job["scenes"], strict=True)
        for beat in scene["beats"]
    ]
    first_cues = [cue for cue in cues if any(abs(cue[0] - s) < 0.01 for s in beat_starts)]
    assert len(first_cues) == len(beat_starts)
    for start, _end, text in first_cues:
        nearest = min(heard, key=lambda onset: abs(onset - start))
        assert abs(nearest - start) <= 0.15, (text, start, nearest)


SCENES_CODE = """\
from manim import *


class Short(Scene):
    def construct(self):
        self.play(Create(Circle()), run_time=1)
        self.wait_until_beat(1)
        self.play(FadeIn(Square()), run_time=0.5)
        self.wait_until_end()


class Silent(Scene):
    def construct(self):
        self.play(FadeIn(Text("no words")), run_time=1)
"""


def test_render_only_job_with_narration_gets_the_same_treatment(api: httpx.Client, tmp_path):
    body = {
        "code": SCENES_CODE,
        "quality": "low",
        "narration": {"Short": "A circle appears first. Then a square fades in beside it."},
    }
    response = api.post("/api/v1/videos/render", json=body)
    assert response.status_code == 201, response.text
    status, _ = wait_for(api, response.json()["job_id"], {}, terminal, timeout=300)
    assert status["status"] == "completed", status.get("error")
    video = tmp_path / "render.mp4"
    video.write_bytes(api.get(f"/api/v1/videos/jobs/{status['job_id']}/download").content)
    assert check.stream_kinds(video) == ["video", "audio"]
    short, silent = status["scenes"]
    assert short["speech_seconds"] > 2 and short["duration_seconds"] >= short["speech_seconds"]
    assert silent["speech_seconds"] == 0
    audio = check.decoded_audio(video)
    assert check.level_db(check.window(audio, 0.05, short["speech_seconds"])) > -30
    assert (
        check.level_db(
            check.window(audio, short["duration_seconds"] + 0.1, short["duration_seconds"] + 0.9)
        )
        < -60
    )
    bad = api.post("/api/v1/videos/render", json={**body, "narration": {"Nope": "x"}})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "VALIDATION_ERROR"


def test_render_only_job_without_narration_stays_silent(api: httpx.Client, tmp_path):
    response = api.post(
        "/api/v1/videos/render", json={"code": SCENES_CODE, "scene": "Silent", "quality": "low"}
    )
    assert response.status_code == 201, response.text
    status, _ = wait_for(api, response.json()["job_id"], {}, terminal, timeout=300)
    assert status["status"] == "completed", status.get("error")
    assert status["voice"] is None
    video = tmp_path / "silent.mp4"
    video.write_bytes(api.get(f"/api/v1/videos/jobs/{status['job_id']}/download").content)
    assert check.stream_kinds(video) == ["video"]


# --- openai/<model> through a local OpenAI-compatible speech server ----------------------


@pytest.fixture(scope="module")
def speech() -> Iterator[SpeechServer]:
    server = SpeechServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def openai_stack(speech: SpeechServer, tmp_path_factory) -> Iterator[Stack]:
    with isolated_stack(
        tmp_path_factory.mktemp("openai-voice"),
        DEFAULT_QUALITY="low",
        ACK_WAIT_SECONDS="4",
        TTS_MODEL="openai/tts-test",
        TTS_BASE_URL=speech.base_url,
        TTS_VOICE="alloy",
        OPENAI_API_KEY=SECRET,
        LLM_MAX_RETRIES="0",
        TTS_FALLBACK="offline",
    ) as running:
        yield running


@pytest.fixture(scope="module")
def openai_api(openai_stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=openai_stack.base_url, timeout=30) as client:
        yield client


def test_openai_voice_speaks_through_the_sdk(openai_api, openai_stack, speech, tmp_path):
    speech.failing, speech.delay = False, 0.0
    before = len(speech.requests())
    job_id = submit(openai_api, "Ohm's Law", {}, target_minutes=0.5)
    status, _ = wait_for(openai_api, job_id, {}, terminal, timeout=400)
    assert status["status"] == "completed", status.get("error")
    assert status["voice"] == "openai/tts-test:alloy"
    video = tmp_path / "v.mp4"
    video.write_bytes(openai_api.get(f"/api/v1/videos/jobs/{job_id}/download").content)
    assert check.stream_kinds(video) == ["video", "audio"]
    scenes = openai_api.get(f"/api/v1/videos/jobs/{job_id}/scenes").json()["scenes"]
    spoken = {beat["text"] for scene in scenes for beat in scene["beats"]}
    sent = speech.requests()[before:]
    assert {r.body["input"] for r in sent} == spoken
    assert {(r.body["model"], r.body["voice"], r.body["response_format"]) for r in sent} == {
        ("tts-test", "alloy", "wav")
    }
    assert {r.authorization for r in sent} == {f"Bearer {SECRET}"}
    audio = check.decoded_audio(video)
    for offset, scene in zip(_offsets(status), scenes, strict=True):
        for beat in scene["beats"]:
            start = offset + beat["start_seconds"]
            assert check.level_db(check.window(audio, start, start + beat["spoken_seconds"])) > -30
    logs = "".join(p.read_text() for p in (openai_stack.data_dir / "logs").glob("*.log"))
    assert SECRET not in logs


def test_openai_outage_falls_back_to_the_offline_voice(openai_api, speech, tmp_path):
    speech.failing, speech.delay = True, 0.0
    job_id = submit(openai_api, "Permutation", {}, target_minutes=0.5)  # short: 3 scenes
    status, _ = wait_for(openai_api, job_id, {}, terminal, timeout=400)
    speech.failing = False
    assert status["status"] == "completed", status.get("error")
    # Sentences an earlier job already spoke come from the cache (by voice and text), so a
    # scene may still be all openai; every scene that needed the server fell back.
    assert "piper:en_US-joe-medium" in status["voice"]
    video = tmp_path / "v.mp4"
    video.write_bytes(openai_api.get(f"/api/v1/videos/jobs/{job_id}/download").content)
    assert check.stream_kinds(video) == ["video", "audio"]
    lines = openai_api.get(f"/api/v1/jobs/{job_id}/logs").json()["logs"]
    fell_back = [
        line["message"] for line in lines if "the configured voice failed" in line["message"]
    ]
    piper_scenes = [s for s in status["scenes"] if s["voice"] == "piper:en_US-joe-medium"]
    assert len(fell_back) == len(piper_scenes) >= 1
    assert all("HTTP 503" in message for message in fell_back)


def _stored_videos(stack: Stack, job_id: str) -> list[str]:
    folder = stack.data_dir / "videos" / user_key("local") / job_id
    return sorted(p.name for p in folder.glob("*.mp4")) if folder.exists() else []


def test_killed_narrator_mid_job_still_makes_exactly_one_video(openai_api, openai_stack, speech):
    speech.failing, speech.delay = False, 1.0
    before = len(speech.requests())
    job_id = submit(openai_api, "Newton's Second Law", {}, target_minutes=0.5)
    deadline = time.monotonic() + 120
    while len(speech.requests()) <= before and time.monotonic() < deadline:
        time.sleep(0.1)
    openai_stack.kill_service("narrator")
    time.sleep(1)
    openai_stack.start_service("narrator")
    speech.delay = 0.0
    status, _ = wait_for(openai_api, job_id, {}, terminal, timeout=400)
    assert status["status"] == "completed", status.get("error")
    assert _stored_videos(openai_stack, job_id) == ["video.mp4"]
    scenes = openai_api.get(f"/api/v1/videos/jobs/{job_id}/scenes").json()["scenes"]
    assert all(scene["beats"] and scene["voice"] == "openai/tts-test:alloy" for scene in scenes)


def test_cancelling_during_narration_stops_it(openai_api, openai_stack, speech):
    speech.failing, speech.delay = False, 1.5
    before = len(speech.requests())
    job_id = submit(openai_api, "Heron's formula", {})
    deadline = time.monotonic() + 120
    while len(speech.requests()) <= before and time.monotonic() < deadline:
        time.sleep(0.1)
    response = openai_api.post(f"/api/v1/jobs/{job_id}/cancel")
    assert response.status_code == 200, response.text
    time.sleep(2 * 1.5 + 1)  # requests already in flight finish
    settled = len(speech.requests())
    time.sleep(6)
    speech.delay = 0.0
    assert len(speech.requests()) == settled  # nothing more was spoken for it
    scenes = openai_api.get(f"/api/v1/videos/jobs/{job_id}/scenes").json()["scenes"]
    assert all(not scene["attempts"] for scene in scenes)  # no scene went on to the coder
    assert openai_api.get(f"/api/v1/videos/jobs/{job_id}/status").json()["status"] == "cancelled"


def test_outage_with_fail_policy_fails_at_the_stage(speech, tmp_path):
    speech.failing = True
    try:
        with (
            isolated_stack(
                tmp_path / "fail",
                services=("planner", "narrator", "coder", "gateway"),
                TTS_MODEL="openai/tts-test",
                TTS_BASE_URL=speech.base_url,
                LLM_MAX_RETRIES="0",
                TTS_FALLBACK="fail",
            ) as failing,
            httpx.Client(base_url=failing.base_url, timeout=30) as client,
        ):
            job_id = submit(client, "Ohm's Law", {})
            status, _ = wait_for(client, job_id, {}, terminal, timeout=200)
    finally:
        speech.failing = False
    assert status["status"] == "failed"
    error = status["error"]
    assert (error["code"], error["stage"]) == ("TTS_UNAVAILABLE", "scenario_creation")
    assert "TTS_FALLBACK" in error["suggestion"]
