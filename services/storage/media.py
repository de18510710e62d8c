"""Thumbnails of stored videos (their facts come from shared/mediaprobe.py).

Storage records what a video actually is rather than trusting the renderer's claims, and
thumbnails must show something meaningful: Manim scenes usually start on an empty (black)
canvas, so the first frame is the worst possible choice.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

from shared.mediaprobe import first_video_stream, stream_seconds

__all__ = [
    "THUMBNAIL_WIDTHS",
    "make_thumbnails",
    "pick_representative_frame",
]

THUMBNAIL_WIDTHS: dict[str, int] = {"small": 320, "medium": 640, "large": 1280}
THUMBNAIL_SAMPLES = 8
_JPEG_QUALITY = 85
_SCORE_WIDTH = 160  # frames are scored on a small copy; enough to tell content from background


def make_thumbnails(video: Path, out_dir: Path) -> dict[str, Path]:
    """Write ``thumb_<size>.jpg`` for each of THUMBNAIL_WIDTHS from the most telling frame.

    Aspect ratio is kept and images are never upscaled past the source width.
    """
    image = pick_representative_frame(Path(video))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for name, target_width in THUMBNAIL_WIDTHS.items():
        width = min(target_width, image.width)
        height = max(1, round(image.height * width / image.width))
        thumb = (
            image
            if width == image.width
            else image.resize((width, height), Image.Resampling.LANCZOS)
        )
        path = out_dir / f"thumb_{name}.jpg"
        tmp = out_dir / f".{path.name}.{uuid.uuid4().hex}.tmp"
        try:
            thumb.save(tmp, format="JPEG", quality=_JPEG_QUALITY, optimize=True)
            os.replace(tmp, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        written[name] = path
    return written


def pick_representative_frame(video: Path, *, samples: int = THUMBNAIL_SAMPLES) -> Image.Image:
    """Sample frames across the video and return the one with the most visual content.

    Candidates sit at the middles of ``samples`` equal slices (never the very first frame,
    which is typically an empty canvas) and are decoded by seeking, so long videos stay cheap.
    """
    candidates = _sample_frames(video, samples)
    if not candidates:
        raise ValueError(f"{video} has no decodable video frames")
    best = max(candidates, key=_content_score)
    return best.convert("RGB")


# --- internals -------------------------------------------------------------------------------


def _sample_frames(video: Path, samples: int) -> list[Image.Image]:
    """Decode the frame at (or just after) each sample time; falls back to the first frame."""
    images: list[Image.Image] = []
    with av.open(str(video)) as container:
        stream = first_video_stream(container, video)
        stream.thread_type = "AUTO"
        tb = stream.time_base or Fraction(1, av.time_base)
        start = stream.start_time or 0
        duration = stream_seconds(container, stream)
        rate = stream.average_rate or stream.guessed_rate or 30
        half_frame = 1 / (2 * Fraction(rate))
        targets = [duration * (i + Fraction(1, 2)) / samples for i in range(max(1, samples))]
        seen: set[int | None] = set()
        for target in targets if duration > 0 else []:
            try:
                container.seek(start + int(target / tb), stream=stream, backward=True)
                frame = _first_frame_at(container, stream, target - half_frame, start, tb)
            except (av.error.FFmpegError, StopIteration):
                continue
            if frame is not None and frame.pts not in seen:
                seen.add(frame.pts)
                images.append(frame.to_image())
    if not images:  # unknown duration or seeking unsupported: take the first frame
        with av.open(str(video)) as container:
            for frame in container.decode(video=0):
                images.append(frame.to_image())
                break
    return images


def _first_frame_at(
    container: av.container.InputContainer,
    stream: av.VideoStream,
    at: Fraction,
    start: int,
    tb: Fraction,
) -> av.VideoFrame | None:
    """First decoded frame at or after ``at`` seconds; the last frame if the video ends first."""
    last: av.VideoFrame | None = None
    for frame in container.decode(stream):
        last = frame
        if frame.pts is None or (frame.pts - start) * tb >= at:
            return frame
    return last


def _content_score(image: Image.Image) -> float:
    """Share of pixels that differ from the dominant (background) colour, plus contrast.

    Manim draws on a flat background, so "non-background pixels" measures how much is on
    screen; the standard deviation only breaks ties between equally full frames.
    """
    small = image.convert("RGB")
    if small.width > _SCORE_WIDTH:
        small = small.resize(
            (_SCORE_WIDTH, max(1, round(small.height * _SCORE_WIDTH / small.width))),
            Image.Resampling.BILINEAR,
        )
    pixels = np.asarray(small, dtype=np.int16).reshape(-1, 3)
    quantized = (pixels // 16).astype(np.int32)
    codes = quantized[:, 0] * 256 + quantized[:, 1] * 16 + quantized[:, 2]
    background = np.bincount(codes).argmax()
    bg_color = np.array([background // 256, (background // 16) % 16, background % 16]) * 16 + 8
    distance = np.abs(pixels - bg_color).max(axis=1)
    foreground = float(np.mean(distance > 24))
    contrast = float(np.asarray(small.convert("L"), dtype=np.float32).std()) / 255.0
    return foreground + 0.01 * contrast
