"""Measurements on a narrated MP4: its streams, decoded speech energy, speech onsets, cues."""

from __future__ import annotations

import re
from pathlib import Path

import av
import numpy as np

RATE = 48_000
FRAME = RATE // 100  # 10 ms
SPEECH_DB = -40.0  # a 10 ms frame louder than this (dBFS RMS) has speech in it


def stream_kinds(path: Path) -> list[str]:
    with av.open(str(path)) as container:
        return [stream.type for stream in container.streams]


def stream_spans(path: Path) -> dict[str, tuple[float, float]]:
    """(start, length) in seconds of the first video and the first audio stream."""
    spans: dict[str, tuple[float, float]] = {}
    with av.open(str(path)) as container:
        for stream in (container.streams.video[0], container.streams.audio[0]):
            assert stream.time_base is not None  # a stream read from a file has one
            tb = float(stream.time_base)
            spans[stream.type] = ((stream.start_time or 0) * tb, (stream.duration or 0) * tb)
    return spans


def decoded_audio(path: Path) -> np.ndarray:
    """The file's audio as mono float at 48 kHz, decoded by FFmpeg (PyAV)."""
    resampler = av.AudioResampler(format="flt", layout="mono", rate=RATE)
    parts = []
    with av.open(str(path)) as container:
        for frame in container.decode(audio=0):
            parts += [f.to_ndarray().reshape(-1) for f in resampler.resample(frame)]
    return np.concatenate(parts)


def level_db(samples: np.ndarray) -> float:
    rms = float(np.sqrt(np.mean(samples.astype(np.float64) ** 2))) if len(samples) else 0.0
    return 20 * np.log10(max(rms, 1e-9))


def window(samples: np.ndarray, start: float, end: float) -> np.ndarray:
    return samples[max(0, round(start * RATE)) : max(0, round(end * RATE))]


def onsets(samples: np.ndarray, *, quiet_before: float = 0.25) -> list[float]:
    """Times where speech starts after at least `quiet_before` s of silence."""
    frames = len(samples) // FRAME
    levels = 20 * np.log10(
        np.maximum(
            np.sqrt(np.mean(samples[: frames * FRAME].reshape(frames, FRAME) ** 2, axis=1)), 1e-9
        )
    )
    loud = levels > SPEECH_DB
    found, quiet = [], round(quiet_before * 100)
    run = quiet  # the file's start counts as silence before
    for index, is_loud in enumerate(loud):
        if is_loud:
            if run >= quiet:
                found.append(index / 100)
            run = 0
        else:
            run += 1
    return found


def vtt_cues(text: str) -> list[tuple[float, float, str]]:
    cues = []
    for match in re.finditer(r"(\d+):(\d+):(\d+)\.(\d+) --> (\d+):(\d+):(\d+)\.(\d+)\n(.+)", text):
        h, m, s, ms, h2, m2, s2, ms2 = (int(g) for g in match.groups()[:8])
        cues.append(
            (
                h * 3600 + m * 60 + s + ms / 1000,
                h2 * 3600 + m2 * 60 + s2 + ms2 / 1000,
                match.group(9),
            )
        )
    return cues
