"""probe_video, sha256_file and thumbnails on real clips."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import cast

import av
import numpy as np
import pytest
from PIL import Image

from services.renderer.render import RenderedClip, still_to_clip
from services.storage.media import THUMBNAIL_WIDTHS, make_thumbnails
from shared.mediaprobe import probe_video, sha256_file


def _first_frame(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        return next(container.decode(video=0)).to_ndarray(format="rgb24")


def test_probe_video_numbers(rendered_clips: dict[str, RenderedClip]) -> None:
    path = rendered_clips["circle"].path
    info = probe_video(path)
    assert info.duration_seconds == pytest.approx(1.0, abs=1 / 15)
    assert (info.width, info.height) == (854, 480)
    assert info.fps == 15.0
    assert info.frame_count == 15
    assert info.codec == "h264"
    assert info.file_size == path.stat().st_size
    assert info.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_probe_counts_frames_when_container_has_no_count(
    rendered_clips: dict[str, RenderedClip], tmp_path: Path
) -> None:
    # Matroska stores no frame count, so probe_video must count packets itself.
    mkv = tmp_path / "clip.mkv"
    with av.open(str(rendered_clips["circle"].path)) as src, av.open(str(mkv), "w") as dst:
        in_stream = src.streams.video[0]
        out_stream = dst.add_stream_from_template(in_stream)
        for packet in src.demux(in_stream):
            if packet.dts is None:
                continue
            packet.stream = out_stream
            dst.mux(packet)
    with av.open(str(mkv)) as check:
        assert check.streams.video[0].frames == 0
    info = probe_video(mkv)
    assert info.frame_count == 15
    assert info.duration_seconds == pytest.approx(1.0, abs=0.1)


def test_sha256_file_streams(tmp_path: Path) -> None:
    data = bytes(range(256)) * 10_000
    path = tmp_path / "blob.bin"
    path.write_bytes(data)
    assert sha256_file(path) == hashlib.sha256(data).hexdigest()
    assert sha256_file(path, chunk_size=1000) == hashlib.sha256(data).hexdigest()


def test_thumbnails_skip_black_first_frame(
    rendered_clips: dict[str, RenderedClip], tmp_path: Path
) -> None:
    video = rendered_clips["fade_in"].path
    assert _first_frame(video).mean() < 3  # the scene really starts black

    thumbs = make_thumbnails(video, tmp_path / "thumbs")

    assert set(thumbs) == set(THUMBNAIL_WIDTHS)
    expected_widths = {"small": 320, "medium": 640, "large": 854}  # never upscaled past 854
    for name, path in thumbs.items():
        assert path == tmp_path / "thumbs" / f"thumb_{name}.jpg"
        with Image.open(path) as img:
            img.load()
            assert img.format == "JPEG"
            assert img.width == expected_widths[name]
            assert img.height == round(480 * img.width / 854)
            pixels = np.asarray(img.convert("L"), dtype=np.float32)
        assert pixels.std() > 30, f"{name} thumbnail looks blank"
        assert (pixels > 100).mean() > 0.2  # the yellow box with the title is on screen
    assert sorted(p.name for p in (tmp_path / "thumbs").iterdir()) == [
        "thumb_large.jpg",
        "thumb_medium.jpg",
        "thumb_small.jpg",
    ]


def test_thumbnails_of_two_second_and_one_frame_videos(tmp_path: Path) -> None:
    image = tmp_path / "still.png"
    Image.new("RGB", (854, 480), (30, 90, 200)).save(image)
    two_seconds = still_to_clip(image, tmp_path / "two.mp4", width=854, height=480, fps=15)
    one_frame = still_to_clip(
        image, tmp_path / "one.mp4", width=854, height=480, fps=15, seconds=1 / 15
    )
    assert probe_video(two_seconds).frame_count == 30
    assert probe_video(one_frame).frame_count == 1
    for video in (two_seconds, one_frame):
        thumbs = make_thumbnails(video, tmp_path / video.stem)
        with Image.open(thumbs["small"]) as img:
            assert img.size == (320, 180)
            r, _g, b = cast(tuple[int, int, int], img.convert("RGB").getpixel((160, 90)))
            assert b > 150 and r < 80  # the blue still, not a black frame


def test_thumbnails_never_upscale_small_videos(tmp_path: Path) -> None:
    image = tmp_path / "tiny.png"
    Image.new("RGB", (200, 100), (255, 255, 255)).save(image)
    video = still_to_clip(image, tmp_path / "tiny.mp4", width=200, height=100, fps=15, seconds=0.5)
    thumbs = make_thumbnails(video, tmp_path / "thumbs")
    for path in thumbs.values():
        with Image.open(path) as img:
            assert img.size == (200, 100)
