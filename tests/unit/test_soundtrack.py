"""Narrated clips on real Manim renders: held to the speech, one AAC track, still joinable
by stream copy, and joined with their sound in place."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from services.renderer.combine import clip_format
from services.renderer.combine_sound import combine_scenes
from services.renderer.soundtrack import AUDIO_RATE, TAIL_SECONDS, score_clip
from tests.e2e import narration_checks as check


def speech(seconds: float) -> np.ndarray:
    t = np.arange(round(seconds * AUDIO_RATE)) / AUDIO_RATE
    return (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)


@pytest.fixture
def circle(rendered_clips) -> Path:
    return rendered_clips["circle"].path  # 1 s at 15 fps


def test_a_short_video_is_held_to_the_speech_plus_tail(circle: Path, tmp_path: Path):
    scored = score_clip(circle, speech(2.5), tmp_path / "scored.mp4")
    assert scored.duration_seconds == pytest.approx(2.5 + TAIL_SECONDS, abs=1 / 15)
    assert scored.held_seconds > 1.5 and scored.warnings == []
    assert check.stream_kinds(scored.path) == ["video", "audio"]
    spans = check.stream_spans(scored.path)
    assert spans["video"][0] == spans["audio"][0] == 0
    assert abs(spans["video"][1] - spans["audio"][1]) <= 0.1
    assert spans["video"][1] == pytest.approx(scored.duration_seconds, abs=0.01)
    assert clip_format(scored.path) == clip_format(circle)  # still joins by stream copy
    audio = check.decoded_audio(scored.path)
    assert check.level_db(check.window(audio, 0.05, 2.45)) > -15
    assert check.level_db(check.window(audio, 2.6, 3.0)) < -60


def test_a_video_far_longer_than_its_speech_is_kept_with_a_warning(circle: Path, tmp_path):
    scored = score_clip(circle, speech(0.2), tmp_path / "scored.mp4")
    assert scored.held_seconds == 0 or scored.duration_seconds <= 0.2 + TAIL_SECONDS + 0.07
    longer = score_clip(_long_video(circle, tmp_path), speech(0.5), tmp_path / "long.mp4")
    assert longer.warnings and "without speech" in longer.warnings[0]
    assert longer.duration_seconds > 4


def _long_video(circle: Path, tmp_path: Path) -> Path:
    silent = score_clip(circle, speech(4.4), tmp_path / "held.mp4")  # 5 s of picture
    return silent.path


def test_clips_with_sound_join_by_stream_copy_with_audio_at_each_offset(circle, tmp_path):
    first = score_clip(circle, speech(2.0), tmp_path / "a.mp4").path
    joined = combine_scenes([first, circle, first], tmp_path / "joined.mp4")
    assert not joined.reencoded
    assert check.stream_kinds(joined.path) == ["video", "audio"]
    spans = check.stream_spans(joined.path)
    assert abs(spans["video"][1] - spans["audio"][1]) <= 0.1
    audio = check.decoded_audio(joined.path)
    second, third = joined.scene_offsets[1], joined.scene_offsets[2]
    assert check.level_db(check.window(audio, third + 0.1, third + 1.9)) > -15
    assert check.level_db(check.window(audio, second + 0.1, third - 0.1)) < -60  # silent clip
