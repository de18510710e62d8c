"""A scene clip with its speech: sized to the speech, with one AAC track, stream-copyable.

The renderer guarantees that a narrated scene lasts exactly as long as its speech plus a
short tail: a video that ends early holds its last frame (re-encoded with Manim's own
settings, so it still joins the other clips by stream copy), and the audio is padded with
silence to the video's length. A video far longer than its speech is kept, with a
warning. Every clip's audio is encoded the same way (AAC, 48 kHz mono, fixed bitrate),
so combining the clips of a job stays a stream copy of both tracks.

AAC encoders delay their output by one frame (1024 samples of "priming"). Packets are
stamped from 0 and the content is shortened by that frame, so a clip's audio never runs
past its video (it ends at most one AAC frame, 21 ms, early) and clips join without
overlapping timestamps; speech then starts 21 ms after the picture, well inside a frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import cast

import av
import numpy as np

from shared.scene_timing import TAIL_SECONDS

AUDIO_RATE = 48_000
AUDIO_BITRATE = 96_000
AAC_FRAME = 1024
HOLD_SLACK_SECONDS = 0.1  # a video this close to its target is not re-encoded to reach it
LONG_FACTOR, LONG_SLACK_SECONDS = 1.5, 3.0  # "much longer than its speech"


@dataclass(frozen=True)
class ScoredClip:
    """The clip with sound, its length, and what is worth telling about it."""

    path: Path
    duration_seconds: float
    speech_seconds: float
    held_seconds: float
    warnings: list[str]


def score_clip(video: Path, speech: np.ndarray, output: Path) -> ScoredClip:
    """`video` held to `len(speech)` + tail, with `speech` (48 kHz mono float) as AAC."""
    fps, video_seconds = _rate_and_length(video)
    speech_seconds = len(speech) / AUDIO_RATE
    target = speech_seconds + TAIL_SECONDS if len(speech) else video_seconds
    hold_frames = 0
    if target - video_seconds > HOLD_SLACK_SECONDS:
        hold_frames = math.ceil((target - video_seconds) * fps - 1e-6)
        video = _held(video, output.with_name(f".held-{output.name}"), hold_frames)
    final_seconds = video_seconds + max(hold_frames, 0) / fps
    mux([video], speech, output, seconds=final_seconds)
    warnings = []
    if len(speech) and video_seconds > max(
        speech_seconds * LONG_FACTOR, speech_seconds + LONG_SLACK_SECONDS
    ):
        warnings.append(
            f"the animation runs {video_seconds:.1f} s but its narration only "
            f"{speech_seconds:.1f} s: {video_seconds - speech_seconds:.1f} s without speech"
        )
    return ScoredClip(
        path=output,
        duration_seconds=round(final_seconds, 3),
        speech_seconds=round(speech_seconds, 3),
        held_seconds=round(max(hold_frames, 0) / fps, 3),
        warnings=warnings,
    )


def mux(parts: list[Path], speech: np.ndarray, output: Path, *, seconds: float) -> None:
    """Video packets of `parts` joined by stream copy, plus `speech` fitted to `seconds`."""
    with av.open(
        str(output), mode="w", format="mp4", container_options={"movflags": "+faststart"}
    ) as out:
        with av.open(str(parts[0])) as first:
            video_out = out.add_stream_from_template(first.streams.video[0])
        audio_out = add_audio_stream(out)
        offset = Fraction(0)
        last_dts: list[Fraction | None] = [None]
        for part in parts:
            with av.open(str(part)) as source:
                offset += copy_video(source, video_out, offset, last_dts)
        encode_audio(out, audio_out, fit(speech, seconds))


def add_audio_stream(out: av.container.OutputContainer) -> av.AudioStream:
    stream = out.add_stream("aac", rate=AUDIO_RATE, layout="mono")
    stream.bit_rate = AUDIO_BITRATE
    stream.time_base = Fraction(1, AUDIO_RATE)
    return stream


def fit(speech: np.ndarray, seconds: float) -> np.ndarray:
    """Speech padded with silence (or cut) to `seconds` less one AAC priming frame."""
    frames = max(1, int(seconds * AUDIO_RATE) // AAC_FRAME - 1)
    wanted = frames * AAC_FRAME
    samples = np.zeros(wanted, np.float32)
    samples[: min(wanted, len(speech))] = speech[:wanted]
    return samples


def encode_audio(
    out: av.container.OutputContainer, stream: av.AudioStream, samples: np.ndarray
) -> None:
    """Encode `samples`; packets stamped 0, 1024, … (see the module docstring)."""
    stamp = 0
    frames = [samples[start : start + AAC_FRAME] for start in range(0, len(samples), AAC_FRAME)] + [
        None
    ]
    for index, chunk in enumerate(frames):
        frame = None
        if chunk is not None:
            frame = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="fltp", layout="mono")
            frame.sample_rate = AUDIO_RATE
            frame.pts = index * AAC_FRAME
            frame.time_base = Fraction(1, AUDIO_RATE)
        for packet in stream.encode(frame):
            packet.pts = packet.dts = stamp
            packet.duration = AAC_FRAME
            stamp += AAC_FRAME
            out.mux(packet)


def copy_video(
    source: av.container.InputContainer,
    target: av.VideoStream,
    offset: Fraction,
    last_dts: list[Fraction | None],
) -> Fraction:
    """Remux `source`'s video packets at `offset` seconds; returns the part's length."""
    stream = source.streams.video[0]
    tb = stream.time_base or Fraction(1, 90_000)
    shift = round(offset / tb) - (stream.start_time or 0)
    tick = _frame_ticks(stream)
    start = end = None
    for packet in source.demux(stream):
        if packet.dts is None or packet.pts is None:
            continue
        # On the frame grid: Manim's own joins leave stamps a few ticks off it, which makes
        # the stream's average rate odd and the clips look incompatible for stream copy.
        packet.pts, packet.dts = _on_grid(packet.pts, tick), _on_grid(packet.dts, tick)
        start = packet.pts if start is None else min(start, packet.pts)
        frame_end = packet.pts + (packet.duration or _frame_ticks(stream))
        end = frame_end if end is None else max(end, frame_end)
        packet.pts += shift
        packet.dts += shift
        if last_dts[0] is not None and packet.dts * tb <= last_dts[0]:
            packet.dts = int(last_dts[0] / tb) + 1
            packet.pts = max(packet.pts, packet.dts)
        last_dts[0] = packet.dts * tb
        packet.stream = target
        output_of(target).mux(packet)
    if start is None or end is None:
        raise ValueError("clip contains no video packets")
    return Fraction(end - start) * tb


def output_of(stream: av.stream.Stream) -> av.container.OutputContainer:
    """The container a stream we added writes to (PyAV types `.container` as the base class)."""
    return cast(av.container.OutputContainer, stream.container)


def _rate_and_length(video: Path) -> tuple[float, float]:
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        rate = float(stream.average_rate or stream.guessed_rate or 30)
        if stream.duration is not None and stream.time_base is not None:
            return rate, float(stream.duration * stream.time_base)
        return rate, (container.duration or 0) / av.time_base


def _held(video: Path, output: Path, frames: int) -> Path:
    """The video again with its last frame repeated `frames` times, encoded as Manim does.

    Re-encoded whole, with the settings of `outputs.still_to_clip` (which match Manim's, so
    the result still joins the other clips by stream copy): appending separately encoded
    frames would collide with the reordered (B-frame) timestamps at the seam.
    """
    with av.open(str(video)) as source, av.open(str(output), mode="w", format="mp4") as out:
        stream = source.streams.video[0]
        fps = round(float(stream.average_rate or stream.guessed_rate or 30))
        encoder = out.add_stream("libx264", rate=fps, options={"crf": "23"})
        encoder.pix_fmt = "yuv420p"
        encoder.width, encoder.height = stream.codec_context.width, stream.codec_context.height
        time_base = Fraction(1, fps)
        index, last = 0, None
        for frame in source.decode(stream):
            last = frame.reformat(format="yuv420p")
            index = _encode(out, encoder, last, index, time_base)
        if last is None:
            raise ValueError(f"{video} has no frames to hold")
        for _ in range(frames):
            index = _encode(out, encoder, last, index, time_base)
        for packet in encoder.encode():
            out.mux(packet)
    return output


def _encode(
    out: av.container.OutputContainer,
    encoder: av.VideoStream,
    frame: av.VideoFrame,
    index: int,
    time_base: Fraction,
) -> int:
    frame.pts, frame.time_base = index, time_base
    for packet in encoder.encode(frame):
        out.mux(packet)
    return index + 1


def _on_grid(stamp: int, tick: int) -> int:
    return round(stamp / tick) * tick


def _frame_ticks(stream: av.VideoStream) -> int:
    rate = stream.average_rate or stream.guessed_rate
    if not rate or stream.time_base is None:
        return 1
    return max(1, round(1 / (Fraction(rate) * stream.time_base)))
