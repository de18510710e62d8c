"""Speech as numbers: decode any engine's audio to mono float at 48 kHz, trim, WAV I/O.

One sample rate for everything the narrator stores (48 kHz, what AAC in MP4 expects), so
beats from any engine can be joined and every clip's audio is encoded the same way.
"""

from __future__ import annotations

import io
import wave

import av
import numpy as np

SAMPLE_RATE = 48_000
SILENCE_DB = -45.0  # below this (relative to the beat's peak) a 10 ms frame is silence
_FRAME = SAMPLE_RATE // 100


def decode(data: bytes) -> np.ndarray:
    """Any audio file PyAV reads (WAV, MP3, Opus, FLAC, …) → mono float32 at 48 kHz."""
    resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
    parts: list[np.ndarray] = []
    with av.open(io.BytesIO(data), "r") as container:
        for frame in container.decode(audio=0):
            parts += [f.to_ndarray().reshape(-1) for f in resampler.resample(frame)]
    parts += [f.to_ndarray().reshape(-1) for f in resampler.resample(None)]
    return np.concatenate(parts).astype(np.float32) if parts else np.zeros(0, np.float32)


def from_float(samples: np.ndarray, rate: int) -> np.ndarray:
    """Mono float samples at any `rate` → float32 at 48 kHz."""
    return decode(to_wav(samples, rate=rate))


def trim(samples: np.ndarray) -> np.ndarray:
    """Without the leading and trailing silence an engine pads speech with.

    So a beat's audio starts with its first word: that is where its cue starts.
    """
    if not len(samples):
        return samples
    frames = len(samples) // _FRAME
    if not frames:
        return samples
    energy = np.sqrt(np.mean(samples[: frames * _FRAME].reshape(frames, _FRAME) ** 2, axis=1))
    loud = np.nonzero(energy > energy.max() * 10 ** (SILENCE_DB / 20))[0]
    if not len(loud):
        return samples[:0]
    start = max(0, loud[0] - 1) * _FRAME  # keep 10 ms before the first word's attack
    end = min(frames, loud[-1] + 2) * _FRAME
    return samples[start:end]


def to_wav(samples: np.ndarray, *, rate: int = SAMPLE_RATE) -> bytes:
    """16-bit mono WAV bytes."""
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2").tobytes()
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm)
    return buffer.getvalue()


def from_wav(data: bytes) -> np.ndarray:
    """What `to_wav` wrote (48 kHz), back as float32."""
    with wave.open(io.BytesIO(data), "rb") as source:
        if source.getframerate() != SAMPLE_RATE or source.getsampwidth() != 2:
            return decode(data)
        pcm = np.frombuffer(source.readframes(source.getnframes()), dtype="<i2")
    return (pcm.astype(np.float32) / 32767).reshape(-1)


def seconds(samples: np.ndarray) -> float:
    return len(samples) / SAMPLE_RATE
