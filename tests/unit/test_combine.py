"""combine_clips on real Manim clips: stream copy, and the re-encode fallback."""

from __future__ import annotations

from pathlib import Path

import av
import pytest
from PIL import Image

from services.renderer.combine import combine_clips, reencode_clips
from services.renderer.render import still_to_clip
from shared.mediaprobe import probe_video

FRAME = 1 / 15  # the -ql frame length


def _still(tmp_path: Path, name: str, size: tuple[int, int], seconds: float = 2.0) -> Path:
    image = tmp_path / f"{name}.png"
    Image.new("RGB", size, (200, 40, 40)).save(image)
    return still_to_clip(
        image, tmp_path / f"{name}.mp4", width=size[0], height=size[1], fps=15, seconds=seconds
    )


def _decode_all(path: Path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


def test_stream_copy_of_three_clips(clip_paths: list[Path], tmp_path: Path) -> None:
    infos = [probe_video(p) for p in clip_paths]
    output = tmp_path / "out" / "video.mp4"

    result = combine_clips(clip_paths, output)

    assert result.path == output and output.is_file()
    assert result.reencoded is False
    expected = sum(i.duration_seconds for i in infos)
    assert result.duration_seconds == pytest.approx(expected, abs=FRAME)
    starts = [0.0, infos[0].duration_seconds, infos[0].duration_seconds + infos[1].duration_seconds]
    assert result.scene_offsets == pytest.approx(starts, abs=1e-6)
    info = probe_video(output)
    assert info.frame_count == sum(i.frame_count for i in infos)
    assert info.duration_seconds == pytest.approx(expected, abs=FRAME)
    assert (info.width, info.height, info.codec) == (854, 480, "h264")
    assert _decode_all(output) == info.frame_count
    assert [p.name for p in output.parent.iterdir()] == ["video.mp4"]  # no temp leftovers


def test_stream_copy_keeps_frames_bit_identical(clip_paths: list[Path], tmp_path: Path) -> None:
    result = combine_clips(clip_paths[:2], tmp_path / "two.mp4")
    with av.open(str(clip_paths[1])) as src:
        first_of_second = next(src.decode(video=0)).to_ndarray(format="gray")
    with av.open(str(result.path)) as out:
        frames = [f for f in out.decode(video=0)]
    at_offset = [f for f in frames if f.time is not None and f.time >= result.scene_offsets[1]]
    assert (at_offset[0].to_ndarray(format="gray") == first_of_second).all()
    times = [f.time for f in frames]
    assert times == sorted(times) and len(set(times)) == len(times)


def test_still_clip_combines_without_reencode(clip_paths: list[Path], tmp_path: Path) -> None:
    still = _still(tmp_path, "still", (854, 480))
    result = combine_clips([clip_paths[0], still], tmp_path / "mixed.mp4")
    assert result.reencoded is False
    assert result.duration_seconds == pytest.approx(1.0 + 2.0, abs=FRAME)
    assert _decode_all(result.path) == 15 + 30


def test_mismatched_resolution_falls_back_to_reencode(
    clip_paths: list[Path], tmp_path: Path
) -> None:
    small = _still(tmp_path, "small", (640, 360), seconds=1.0)  # same aspect, other size
    square = _still(tmp_path, "square", (480, 480), seconds=1.0)  # other aspect: letterboxed
    result = combine_clips([clip_paths[0], small, square], tmp_path / "fallback.mp4")

    assert result.reencoded is True
    assert result.scene_offsets == pytest.approx([0.0, 1.0, 2.0], abs=1e-6)
    assert result.duration_seconds == pytest.approx(3.0, abs=FRAME)
    info = probe_video(result.path)
    assert (info.width, info.height, info.fps) == (854, 480, 15.0)
    assert info.frame_count == 45
    assert _decode_all(result.path) == 45


def test_reencode_matches_stream_copy_layout(clip_paths: list[Path], tmp_path: Path) -> None:
    copied = combine_clips(clip_paths, tmp_path / "copy.mp4")
    encoded = reencode_clips(clip_paths, tmp_path / "encoded.mp4")
    assert encoded.reencoded is True
    assert encoded.scene_offsets == pytest.approx(copied.scene_offsets, abs=1e-6)
    assert encoded.duration_seconds == pytest.approx(copied.duration_seconds, abs=FRAME)
    assert probe_video(encoded.path).frame_count == probe_video(copied.path).frame_count


def test_reencode_resamples_frame_rate(clip_paths: list[Path], tmp_path: Path) -> None:
    result = reencode_clips(clip_paths[:1], tmp_path / "30fps.mp4", fps=30, width=426, height=240)
    info = probe_video(result.path)
    assert (info.width, info.height, info.fps) == (426, 240, 30.0)
    assert info.frame_count == 30
    assert info.duration_seconds == pytest.approx(1.0, abs=1 / 30)


def test_combine_requires_clips(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        combine_clips([], tmp_path / "x.mp4")
