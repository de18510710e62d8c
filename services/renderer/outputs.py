"""Manim's output files: find a render's clip, turn a still image into a clip, probe length.

A scene with no animation makes Manim write a PNG instead of a video; ``still_to_clip``
encodes it with Manim's own settings so it stream-copies together with animated clips.
"""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import av

from services.renderer.errors import RenderFailure
from shared.mediaprobe import video_duration

OUTPUT_NAME = "clip"
STILL_SECONDS = 2.0


def still_to_clip(
    image: Path,
    output: Path,
    *,
    width: int,
    height: int,
    fps: int,
    seconds: float = STILL_SECONDS,
) -> Path:
    """Encode a still image as an H.264 clip with Manim's own encoder settings.

    Matching codec, pixel format, size, rate and CRF lets the still be stream-copied together
    with Manim's animated clips instead of forcing a re-encode of the whole video.
    """
    from PIL import Image  # local: only the rare static-scene path needs Pillow

    with Image.open(image) as img:
        rgb = img.convert("RGB")
    if rgb.size != (width, height):
        rgb = rgb.resize((width, height), Image.Resampling.LANCZOS)
    frame_count = max(1, round(seconds * fps))
    tmp = output.with_name(f".{output.stem}.tmp{output.suffix}")
    with av.open(str(tmp), mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps, options={"crf": "23"})
        stream.pix_fmt = "yuv420p"
        stream.width = width
        stream.height = height
        time_base = Fraction(1, fps)
        for index in range(frame_count):
            frame = av.VideoFrame.from_image(rgb)
            frame.pts = index
            frame.time_base = time_base
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    os.replace(tmp, output)
    return output


def find_output(media_dir: Path, kind: str, suffix: str) -> Path | None:
    """Locate Manim's output file, ignoring its partial-movie intermediates."""
    root = media_dir / kind
    if not root.is_dir():
        return None
    found = [
        p
        for p in root.rglob(f"*{suffix}")
        if p.is_file() and "partial_movie_files" not in p.parts and not p.name.startswith(".")
    ]
    if not found:
        return None
    named = [p for p in found if p.stem == OUTPUT_NAME]
    return max(named or found, key=lambda p: p.stat().st_mtime)


def probe_duration(path: Path) -> float:
    """Clip length in seconds (shared/mediaprobe.py), an unreadable clip as a failure."""
    try:
        return video_duration(path)
    except ValueError as exc:
        raise RenderFailure("no_output", f"{path.name} has no video stream") from exc
    except av.error.FFmpegError as exc:
        raise RenderFailure("no_output", f"output clip is unreadable: {exc}") from exc
