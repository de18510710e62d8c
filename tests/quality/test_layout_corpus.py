"""The layout check on its labelled corpus, rendered for real in the jail's warm pool.

24 scenes (tests/quality/layout_corpus/): 12 with one planted defect (3 of each kind),
12 clean ones that do what real scenes do (backgrounds spanning the frame, slide-outs,
a zoomed camera with small text, transforms, boxes around formulas). Precision and
recall are over (scene, kind) pairs; `python -m bench layout` reports the same numbers.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from services.renderer.warm import WarmPool
from tests.quality.layout_scenes import KINDS, check, labelled_scenes, score

pytestmark = pytest.mark.timeout(900)


def test_the_corpus_is_labelled_as_promised() -> None:
    scenes = labelled_scenes()
    defects = [s.defect for s in scenes if s.defect]
    assert len(scenes) >= 20 and len(defects) * 2 == len(scenes)
    assert {kind: defects.count(kind) for kind in KINDS} == dict.fromkeys(KINDS, 3)


async def test_precision_and_recall_on_the_corpus() -> None:
    pool = WarmPool()
    with tempfile.TemporaryDirectory(dir="/tmp") as root:
        Path(root).chmod(0o755)
        try:
            results = [
                await check(scene, pool, Path(root) / scene.name) for scene in labelled_scenes()
            ]
        finally:
            await pool.close()
    scores = score(results)
    missed = [
        (r.scene.name, sorted(r.kinds)) for r in results if r.kinds != {r.scene.defect} - {None}
    ]
    assert scores["precision"] >= 0.9 and scores["recall"] >= 0.9, (scores, missed)
    # Every finding names its objects and the line that made them.
    for result in results:
        for finding in result.findings:
            assert finding.source == "layout" and finding.objects and finding.line, finding
