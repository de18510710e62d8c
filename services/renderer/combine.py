"""Join per-scene MP4 clips into one video.

Manim encodes every clip of a job with the same settings, so the clips can be concatenated by
remuxing their packets (stream copy): it is fast and loses no quality. Only when the clips
disagree (size, codec, pixel format, frame rate, encoder headers) are they re-encoded to one
common format. Audio streams are not carried over (Manim clips here are silent).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av

from shared.mediaprobe import first_video_stream, stream_seconds, video_duration

__all__ = [
    "ClipFormat",
    "CombinedVideo",
    "clip_format",
    "combine_clips",
    "join_parts",
    "reencode_clips",
]

_CONTAINER_OPTIONS = {"movflags": "+faststart"}  # index up front: playable while downloading


@dataclass(frozen=True)
class CombinedVideo:
    """The joined video; ``scene_offsets[i]`` is where clip i starts, for subtitles/chapters."""

    path: Path
    duration_seconds: float
    scene_offsets: list[float] = field(default_factory=list)
    reencoded: bool = False


@dataclass(frozen=True)
class ClipFormat:
    """The codec parameters that must be equal for clips to be stream-copied together."""

    codec: str
    width: int
    height: int
    pix_fmt: str | None
    fps: Fraction | None
    extradata: bytes


def clip_format(path: Path) -> ClipFormat:
    """Read the stream-copy compatibility key of a clip's first video stream."""
    with av.open(str(path)) as container:
        stream = first_video_stream(container, path)
        ctx = stream.codec_context
        rate = stream.average_rate or stream.guessed_rate
        return ClipFormat(
            codec=ctx.name,
            width=ctx.width,
            height=ctx.height,
            pix_fmt=ctx.pix_fmt,
            fps=Fraction(rate) if rate else None,
            extradata=bytes(ctx.extradata or b""),
        )


def combine_clips(clips: Sequence[Path], output: Path) -> CombinedVideo:
    """Concatenate ``clips`` into ``output``: stream copy if compatible, else re-encode.

    The output appears atomically (temp file + rename), so readers never see a partial file.
    """
    clips = [Path(c) for c in clips]
    if not clips:
        raise ValueError("combine_clips needs at least one clip")
    formats = [clip_format(c) for c in clips]
    if any(f != formats[0] for f in formats[1:]):
        return reencode_clips(clips, output)
    return _stream_copy(clips, Path(output))


def join_parts(parts: Sequence[Path], output: Path) -> CombinedVideo:
    """Stream-copy parts of one render (a scene's slices) into one clip.

    Parts come from one encoder with one set of settings; only their *measured* average
    frame rates may differ in the last digits (a short part's timestamps), which would
    make :func:`combine_clips` re-encode. Anything else differing is an error.
    """
    parts = [Path(p) for p in parts]
    formats = [dataclasses.replace(clip_format(p), fps=None) for p in parts]
    if any(f != formats[0] for f in formats[1:]):
        raise ValueError("the parts of one render differ in codec parameters")
    return _stream_copy(parts, Path(output))


def reencode_clips(
    clips: Sequence[Path],
    output: Path,
    *,
    width: int | None = None,
    height: int | None = None,
    fps: float | Fraction | None = None,
    crf: int = 23,
    preset: str = "medium",
) -> CombinedVideo:
    """Decode every clip and encode one H.264 video (size/rate default to the first clip's).

    Frames are resampled to a constant rate and letterboxed when a clip's aspect ratio
    differs, so clips of any shape and rate can be joined. Slow compared to stream copy; used
    as the fallback and as the benchmark baseline.
    """
    clips = [Path(c) for c in clips]
    output = Path(output)
    if not clips:
        raise ValueError("reencode_clips needs at least one clip")
    first = clip_format(clips[0])
    out_w = _even(width or first.width)
    out_h = _even(height or first.height)
    out_fps = Fraction(fps).limit_denominator(1001) if fps else (first.fps or Fraction(30))
    time_base = 1 / out_fps

    offsets: list[float] = []
    written = 0
    # The container closes (writes its index) before the temp file is renamed into place.
    with (
        _atomic_output(output) as tmp,
        av.open(str(tmp), mode="w", format="mp4", container_options=_CONTAINER_OPTIONS) as out,
    ):
        stream = out.add_stream(
            "libx264", rate=out_fps, options={"crf": str(crf), "preset": preset}
        )
        stream.pix_fmt = "yuv420p"
        stream.width = out_w
        stream.height = out_h
        for clip in clips:
            offsets.append(float(written * time_base))
            for frame in _resampled_frames(clip, out_fps, out_w, out_h):
                frame.pts = written
                frame.time_base = time_base
                written += 1
                out.mux(stream.encode(frame))
        out.mux(stream.encode())
    return CombinedVideo(
        path=output,
        duration_seconds=video_duration(output),
        scene_offsets=offsets,
        reencoded=True,
    )


# --- internals -------------------------------------------------------------------------------


def _stream_copy(clips: list[Path], output: Path) -> CombinedVideo:
    """Remux all packets, shifting each clip's timestamps by the length of those before it."""
    offsets: list[float] = []
    offset = Fraction(0)  # seconds
    last_dts: Fraction | None = None
    # The container closes (writes its index) before the temp file is renamed into place.
    with (
        _atomic_output(output) as tmp,
        av.open(str(tmp), mode="w", format="mp4", container_options=_CONTAINER_OPTIONS) as out,
    ):
        out_stream = None
        for clip in clips:
            offsets.append(float(offset))
            with av.open(str(clip)) as inp:
                in_stream = first_video_stream(inp, clip)
                if out_stream is None:
                    out_stream = out.add_stream_from_template(in_stream)
                tb = in_stream.time_base
                if tb is None:
                    raise ValueError(f"{clip} has no stream time base")
                shift = round(offset / tb) - (in_stream.start_time or 0)
                start: int | None = None
                end: int | None = None
                for packet in inp.demux(in_stream):
                    if packet.dts is None or packet.pts is None:
                        continue  # demux's trailing flush packet
                    start = packet.pts if start is None else min(start, packet.pts)
                    frame_end = packet.pts + (packet.duration or _frame_ticks(in_stream))
                    end = frame_end if end is None else max(end, frame_end)
                    packet.pts += shift
                    packet.dts += shift
                    dts = packet.dts * tb
                    if last_dts is not None and dts <= last_dts:
                        # Never hand the muxer a non-increasing dts (it would refuse).
                        packet.dts = int(last_dts / tb) + 1
                        packet.pts = max(packet.pts, packet.dts)
                        dts = packet.dts * tb
                    last_dts = dts
                    packet.stream = out_stream
                    out.mux(packet)
            if start is None or end is None:
                raise ValueError(f"{clip} contains no video packets")
            offset += (end - start) * tb
    return CombinedVideo(
        path=output,
        duration_seconds=video_duration(output),
        scene_offsets=offsets,
        reencoded=False,
    )


def _resampled_frames(
    clip: Path, fps: Fraction, width: int, height: int
) -> Iterator[av.VideoFrame]:
    """Yield a clip's frames at exactly ``fps``, repeating/dropping frames as needed.

    A repeated frame is the same object; that is safe because the caller encodes (and the
    encoder takes its own reference) before the next one is yielded.
    """
    step = 1 / fps
    with av.open(str(clip)) as inp:
        in_stream = first_video_stream(inp, clip)
        tb = in_stream.time_base or Fraction(1, 90000)
        src_rate = in_stream.average_rate or in_stream.guessed_rate or fps
        total = max(1, round(stream_seconds(inp, in_stream) * fps))
        emitted = 0
        first_pts: int | None = None
        previous: av.VideoFrame | None = None
        for index, frame in enumerate(inp.decode(in_stream)):
            if frame.pts is not None:
                first_pts = frame.pts if first_pts is None else first_pts
                t = (frame.pts - first_pts) * tb
            else:
                t = index / Fraction(src_rate)
            # Output slot k shows the latest source frame whose time is <= k/fps (half-frame
            # tolerance absorbs timestamp rounding).
            while previous is not None and emitted < total and emitted * step < t - step / 2:
                yield previous
                emitted += 1
            previous = _fit(frame, width, height)
        while previous is not None and emitted < total:
            yield previous
            emitted += 1


def _fit(frame: av.VideoFrame, width: int, height: int) -> av.VideoFrame:
    """Scale a frame to width x height in yuv420p, letterboxing if the aspect ratio differs."""
    if (frame.width, frame.height) == (width, height):
        return frame.reformat(format="yuv420p")
    if abs(frame.width / frame.height - width / height) < 0.01:
        return frame.reformat(width=width, height=height, format="yuv420p")
    from PIL import Image

    image = frame.to_image()
    scale = min(width / image.width, height / image.height)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    canvas = Image.new("RGB", (width, height))
    canvas.paste(
        image.resize(size, Image.Resampling.LANCZOS),
        ((width - size[0]) // 2, (height - size[1]) // 2),
    )
    return av.VideoFrame.from_image(canvas).reformat(format="yuv420p")


@contextlib.contextmanager
def _atomic_output(output: Path) -> Iterator[Path]:
    """Write to a hidden temp file beside ``output`` and rename it into place on success."""
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(f".{output.name}.{uuid.uuid4().hex}.tmp")
    try:
        yield tmp
        os.replace(tmp, output)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _even(value: int) -> int:
    """libx264 with yuv420p needs even dimensions."""
    return max(2, value - value % 2)


def _frame_ticks(stream: av.VideoStream) -> int:
    """One frame's duration in stream ticks, for packets that don't carry a duration."""
    rate = stream.average_rate or stream.guessed_rate
    if not rate or stream.time_base is None:
        return 1
    return max(1, round(1 / (Fraction(rate) * stream.time_base)))
