"""Subtitle cues from narration: per-scene timing, full coverage, valid SRT and WebVTT."""

from __future__ import annotations

import itertools
import re

import pytest

from services.renderer.subtitles import Cue, scene_cues, to_srt, to_vtt

NARRATIONS = [
    "First we draw a right triangle. Its sides are a, b and c.",
    "The square on the hypotenuse equals the sum of the squares on the other two sides, "
    "which is what Pythagoras proved more than two thousand years ago in ancient Greece.",
    "That is all.",
]
OFFSETS = [0.0, 4.2, 11.0]
DURATION = 13.5


def test_cues_cover_each_scene_exactly_and_never_cross_a_boundary() -> None:
    cues = scene_cues(NARRATIONS, OFFSETS, DURATION)
    assert cues[0].start_ms == 0 and cues[-1].end_ms == 13_500
    for before, after in itertools.pairwise(cues):
        assert before.end_ms == after.start_ms  # no gaps, no overlaps
    bounds = [round(o * 1000) for o in OFFSETS]
    assert set(bounds) <= {cue.start_ms for cue in cues}
    for cue in cues:
        assert not any(cue.start_ms < b < cue.end_ms for b in bounds)
        assert len(cue.text) <= 84


def test_scene_without_narration_gets_no_cues() -> None:
    cues = scene_cues([None, "Only here."], [0.0, 2.0], 4.0)
    assert cues == [Cue(2000, 4000, "Only here.")]


def test_srt_and_vtt_parse() -> None:
    cues = scene_cues(NARRATIONS, OFFSETS, DURATION)
    srt = to_srt(cues)
    blocks = srt.strip().split("\n\n")
    assert len(blocks) == len(cues)
    stamp = r"\d{2}:\d{2}:\d{2}[,.]\d{3}"
    for number, block in enumerate(blocks, start=1):
        lines = block.split("\n")
        assert lines[0] == str(number)
        assert re.fullmatch(rf"{stamp} --> {stamp}", lines[1])
    assert "00:00:13,500" in srt
    vtt = to_vtt(cues)
    assert vtt.startswith("WEBVTT\n\n")
    assert "00:00:04.200 --> " in vtt


def test_offsets_must_match_narrations() -> None:
    with pytest.raises(ValueError):
        scene_cues(["a"], [0.0, 1.0], 2.0)
