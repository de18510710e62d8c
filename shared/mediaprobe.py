"""What a video file really is: its first video stream, its length, its numbers.

The renderer measures clips and combined videos with it, storage records a stored video's
facts with it, so a duration means the same thing at every stage: the video stream's own
duration, else the container's, else its frames counted at its frame rate.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
from av.container import InputContainer


@dataclass(frozen=True)
class VideoInfo:
    """What a stored video file really contains."""

    duration_seconds: float
    width: int
    height: int
    fps: float
    frame_count: int
    codec: str
    file_size: int
    sha256: str


def first_video_stream(container: InputContainer, path: Path) -> av.VideoStream:
    """The container's first video stream; ValueError when it has none."""
    if not container.streams.video:
        raise ValueError(f"{path} has no video stream")
    return container.streams.video[0]


def stream_seconds(container: InputContainer, stream: av.VideoStream) -> Fraction:
    """The stream's length from its header, else the container's; 0 when neither says."""
    if stream.duration is not None and stream.time_base is not None:
        return stream.duration * stream.time_base
    if container.duration is not None:
        return Fraction(container.duration, av.time_base)
    return Fraction(0)


def _frames(container: InputContainer, stream: av.VideoStream) -> int:
    """Frames of the stream: the header's count, else its packets counted."""
    return int(stream.frames) or sum(1 for packet in container.demux(stream) if packet.size)


def _frame_rate(stream: av.VideoStream) -> float:
    rate = stream.average_rate or stream.guessed_rate
    return float(rate) if rate else 0.0


def video_duration(path: Path) -> float:
    """Length of the video in seconds (ValueError: no video; av's errors: unreadable)."""
    with av.open(str(path)) as container:
        stream = first_video_stream(container, path)
        seconds = float(stream_seconds(container, stream))
        if seconds:
            return seconds
        fps = _frame_rate(stream)
        return _frames(container, stream) / fps if fps else 0.0


def sha256_file(path: Path, *, chunk_size: int = 1 << 20) -> str:
    """Hex SHA-256 of a file, read in chunks so large videos don't load into memory."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def probe_video(path: Path) -> VideoInfo:
    """Probe the first video stream; counts packets when the container lacks a frame count."""
    path = Path(path)
    with av.open(str(path)) as container:
        stream = first_video_stream(container, path)
        duration = float(stream_seconds(container, stream))
        fps = _frame_rate(stream)
        width, height = int(stream.codec_context.width), int(stream.codec_context.height)
        codec = str(stream.codec_context.name)
        frame_count = _frames(container, stream)
    if not duration and frame_count and fps:
        duration = frame_count / fps
    return VideoInfo(
        duration_seconds=duration,
        width=width,
        height=height,
        fps=fps,
        frame_count=frame_count,
        codec=codec,
        file_size=path.stat().st_size,
        sha256=sha256_file(path),
    )
