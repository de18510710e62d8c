"""The layout-check corpus: small scenes, half with one planted layout defect, half clean.

Each file in layout_corpus/ is one scene; labels.json says which defect it carries
(`off_frame`, `overlap`, `too_small`, `leftover`, or null) and whether it is a job's
last scene (only a scene that another follows is held to ending on an empty frame).
Used by the corpus test and by `python -m bench layout` (precision, recall, hook cost).
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from pathlib import Path

from services.renderer.layout import Context, findings_of
from services.renderer.render import Launcher, render_scene
from shared.events import SceneFinding
from shared.scene_classes import scene_class_names

CORPUS = Path(__file__).parent / "layout_corpus"
KINDS = ("off_frame", "overlap", "too_small", "leftover")


@dataclass(frozen=True)
class LabelledScene:
    name: str
    class_name: str
    code: str
    defect: str | None
    last_scene: bool


@dataclass(frozen=True)
class Checked:
    scene: LabelledScene
    findings: list[SceneFinding]
    seconds: float

    @property
    def kinds(self) -> set[str]:
        return {finding.kind for finding in self.findings}


def labelled_scenes() -> list[LabelledScene]:
    labels = json.loads((CORPUS / "labels.json").read_text())
    scenes = []
    for path in sorted(CORPUS.glob("*.py")):
        code = path.read_text()
        [class_name] = scene_class_names(code)
        label = labels[path.stem]
        scenes.append(
            LabelledScene(path.stem, class_name, code, label["defect"], label["last_scene"])
        )
    return scenes


async def check(
    scene: LabelledScene, launcher: Launcher, workdir: Path, *, layout: bool = True
) -> Checked:
    """Render the scene (low quality) with or without the hook, and its findings."""
    started = time.perf_counter()
    clip = await render_scene(
        scene.code,
        class_name=scene.class_name,
        quality="low",
        workdir=workdir,
        timeout_seconds=180,
        launcher=launcher,
        layout=layout,
    )
    seconds = time.perf_counter() - started
    if clip.layout is None:
        return Checked(scene, [], seconds)
    context = Context(code_lines=len(scene.code.splitlines()), last_scene=scene.last_scene)
    findings = await asyncio.to_thread(findings_of, clip.layout, context)
    return Checked(scene, findings, seconds)


def score(results: list[Checked]) -> dict[str, float | int]:
    """Precision and recall over (scene, kind) pairs, and per scene (flagged or not)."""
    tp = fp = fn = 0
    for result in results:
        expected = {result.scene.defect} if result.scene.defect else set()
        tp += len(result.kinds & expected)
        fp += len(result.kinds - expected)
        fn += len(expected - result.kinds)
    flagged = [bool(r.findings) for r in results]
    defective = [r.scene.defect is not None for r in results]
    scene_tp = sum(f and d for f, d in zip(flagged, defective, strict=True))
    return {
        "scenes": len(results),
        "defective": sum(defective),
        "precision": round(tp / (tp + fp), 3) if tp + fp else 1.0,
        "recall": round(tp / (tp + fn), 3) if tp + fn else 1.0,
        "scene_precision": round(scene_tp / sum(flagged), 3) if any(flagged) else 1.0,
        "scene_recall": round(scene_tp / sum(defective), 3) if any(defective) else 1.0,
        "true_positives": tp,
        "false_positives": fp,
        "false_negatives": fn,
    }
