"""A few key frames of a rendered clip, as small JPEGs: what a vision model is shown.

Frames are taken at equal steps through the clip, the last at its final frame (where a
scene's layout is complete); each is scaled down to a width, so the cost of an image in
the vision call stays bounded whatever the render quality.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import av

JPEG_QUALITY = 80


@dataclass(frozen=True)
class KeyFrame:
    time_seconds: float
    jpeg: bytes
    width: int
    height: int


def key_frames(clip: Path, *, count: int, max_width: int) -> list[KeyFrame]:
    """`count` frames at equal steps through `clip`, the last one its final frame."""
    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        duration = _duration(container, stream)
        last = max(0.0, duration - 1.0 / float(stream.average_rate or 15))
        times = [round(last * (i + 1) / count, 3) for i in range(count)]
        return [_frame_at(container, stream, t, max_width) for t in times]


def _duration(container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    return float(container.duration or 0) / av.time_base


def _frame_at(
    container: av.container.InputContainer,
    stream: av.video.stream.VideoStream,
    seconds: float,
    max_width: int,
) -> KeyFrame:
    assert stream.time_base is not None
    container.seek(int(seconds / stream.time_base), stream=stream, backward=True)
    chosen = None
    for frame in container.decode(stream):
        chosen = frame
        if frame.time is not None and frame.time >= seconds - 1e-3:
            break
    if chosen is None:
        raise ValueError(f"{seconds:.2f} s is past the end of the clip")
    image = chosen.to_image()
    if image.width > max_width:
        image = image.resize((max_width, round(image.height * max_width / image.width)))
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=JPEG_QUALITY)
    return KeyFrame(float(chosen.time or seconds), buffer.getvalue(), image.width, image.height)
