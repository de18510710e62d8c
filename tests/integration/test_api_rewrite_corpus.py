"""Every old-API corpus scene renders with the installed Manim once rewritten.

One real `manim -ql -s -a` run over all rewritten scenes in one file (last frames only:
the constructs run in full, but no video is encoded), so the test stays about 30 s.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from shared.api_rewrites import rewrite_api
from tests.quality.corpus_scenes import corpus_scenes


def test_corpus_has_thirty_old_api_scenes_each_rewritten() -> None:
    scenes = corpus_scenes()
    assert len(scenes) >= 30
    for scene in scenes:
        _, rewrites = rewrite_api(scene.code)
        assert rewrites, f"{scene.name}: no idiom rewritten"


def test_every_corpus_scene_renders_after_rewrites(tmp_path: Path) -> None:
    scenes = corpus_scenes()
    module = tmp_path / "corpus.py"
    module.write_text("\n\n".join(rewrite_api(scene.code)[0] for scene in scenes))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "manim",
            "render",
            "-ql",
            "-s",
            "-a",
            "--disable_caching",
            "--progress_bar",
            "none",
            "--media_dir",
            str(tmp_path / "media"),
            str(module),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    frames = {path.name.split("_ManimCE")[0] for path in (tmp_path / "media").rglob("*.png")}
    assert frames >= {scene.class_name for scene in scenes}
