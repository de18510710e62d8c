"""Joining clips that carry sound: both tracks by stream copy, each clip at its offset.

`soundtrack.score_clip` gives every narrated clip the same AAC settings, so a job's clips
join like silent ones do — packets remuxed, timestamps shifted — with the audio of clip
i starting exactly where its video starts. A clip without sound (e.g. a scene with no
narration) first gets a silent track of its own length, so the joined file has one video
and one audio stream from start to end.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from services.renderer.combine import (
    _CONTAINER_OPTIONS,
    CombinedVideo,
    _atomic_output,
    clip_format,
    combine_clips,
)
from services.renderer.soundtrack import copy_video, output_of, score_clip
from shared.mediaprobe import video_duration

log = logging.getLogger("videogen.renderer")


def combine_scenes(clips: Sequence[Path], output: Path) -> CombinedVideo:
    """Join a job's clips: with their sound when any has some, else as `combine_clips` does.

    Clips whose video formats differ cannot be stream-copied; they go to `combine_clips`'s
    re-encode, which carries no audio (logged: it does not happen to a job's own clips,
    which share one quality and Manim's encoder settings).
    """
    clips = [Path(c) for c in clips]
    if not any(has_audio(c) for c in clips):
        return combine_clips(clips, output)
    formats = [clip_format(c) for c in clips]
    if any(f != formats[0] for f in formats[1:]):
        log.warning("clips differ in format: re-encoding them without their sound")
        return combine_clips(clips, output)
    return combine_with_audio(clips, output)


def has_audio(path: Path) -> bool:
    with av.open(str(path)) as container:
        return bool(container.streams.audio)


def combine_with_audio(clips: Sequence[Path], output: Path) -> CombinedVideo:
    """Concatenate clips (some with AAC audio) into `output`, video and audio copied."""
    with tempfile.TemporaryDirectory(prefix="videogen-sound-") as folder:
        sounded = [
            clip
            if has_audio(clip)
            else score_clip(
                clip, np.zeros(0, np.float32), Path(folder) / f"silent-{index}.mp4"
            ).path
            for index, clip in enumerate(clips)
        ]
        return _copy_all(sounded, Path(output))


def _copy_all(clips: list[Path], output: Path) -> CombinedVideo:
    offsets: list[float] = []
    offset = Fraction(0)
    last_video: list[Fraction | None] = [None]
    last_audio: int | None = None
    with (
        _atomic_output(output) as tmp,
        av.open(str(tmp), mode="w", format="mp4", container_options=_CONTAINER_OPTIONS) as out,
    ):
        with av.open(str(clips[0])) as first:
            video_out = out.add_stream_from_template(first.streams.video[0])
            audio_out = out.add_stream_from_template(first.streams.audio[0])
        for clip in clips:
            offsets.append(float(offset))
            with av.open(str(clip)) as source:
                length = copy_video(source, video_out, offset, last_video)
            with av.open(str(clip)) as source:
                last_audio = _copy_audio(source, audio_out, offset, last_audio)
            offset += length
    return CombinedVideo(
        path=output,
        duration_seconds=video_duration(output),
        scene_offsets=offsets,
        reencoded=False,
    )


def _copy_audio(
    source: av.container.InputContainer,
    target: av.AudioStream,
    offset: Fraction,
    last_dts: int | None,
) -> int | None:
    """Remux the clip's audio at `offset` (in the target's 1/rate ticks); the last dts."""
    stream = source.streams.audio[0]
    tb = stream.time_base or Fraction(1, stream.rate)
    out_tb = target.time_base or tb
    shift = round(offset / out_tb)
    for packet in source.demux(stream):
        if packet.dts is None or packet.pts is None:
            continue
        dts = round(packet.dts * tb / out_tb) + shift
        if last_dts is not None and dts <= last_dts:
            continue  # never overlap the clip before (see soundtrack: it cannot, normally)
        packet.pts = packet.dts = dts
        packet.time_base = out_tb
        packet.stream = target
        output_of(target).mux(packet)
        last_dts = dts
    return last_dts
