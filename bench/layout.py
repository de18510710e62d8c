"""Layout-check benchmark: precision and recall on the labelled corpus, and what the hook
costs a render (the same scenes through the jailed warm pool at -ql, hook off vs on,
interleaved so machine load hits both alike, and as the hook measures itself), and what it
flags in the API-rewrite corpus, whose scenes nobody planted defects in.

`python -m bench layout` → bench/results/layout.json.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from services.renderer.layout import Context, find_problems, findings_of, parse_records
from services.renderer.layout_hook import LAYOUT_FILE
from services.renderer.render import RenderFailure, render_scene
from services.renderer.warm import WarmPool
from shared.api_rewrites import rewrite_api
from tests.quality.corpus_scenes import corpus_scenes
from tests.quality.layout_scenes import (
    Checked,
    LabelledScene,
    check,
    labelled_scenes,
    score,
)

ROUNDS = 2
HEAVY_RUNS = 3
# The hook's worst case: many mobjects made (each walks the stack once) and many
# checkpoints over many objects (each boxes everything on screen).
HEAVY = LabelledScene(
    name="heavy",
    class_name="Heavy",
    code="""from manim import *


class Heavy(Scene):
    def construct(self):
        plane = NumberPlane()
        dots = VGroup(*[Dot(0.3 * RIGHT * (i % 40 - 20)) for i in range(400)])
        dots.arrange_in_grid(rows=10, buff=0.15)
        labels = VGroup(*[Text(str(i), font_size=20) for i in range(12)])
        labels.arrange(RIGHT, buff=0.6).to_edge(DOWN)
        self.add(plane, dots, labels)
        for i in range(40):
            self.play(dots.animate.shift(0.01 * UP), run_time=0.1)
""",
    defect=None,
    last_scene=True,
)


def run() -> dict[str, Any]:
    return asyncio.run(_run())


async def _run() -> dict[str, Any]:
    scenes = labelled_scenes()
    pool = WarmPool()
    await pool.start()
    off: list[float] = []
    on: list[float] = []
    checked: list[Checked] = []
    records: list[bytes] = []
    try:
        with tempfile.TemporaryDirectory(prefix="videogen-bench-layout-", dir="/tmp") as root:
            Path(root).chmod(0o755)
            for round_ in range(ROUNDS):
                for scene in scenes:
                    plain = await check(scene, pool, Path(root) / "off", layout=False)
                    hooked = await check(scene, pool, Path(root) / "on", layout=True)
                    off.append(plain.seconds)
                    on.append(hooked.seconds)
                    if round_ == 0:
                        checked.append(hooked)
                        records.append((Path(root) / "on" / LAYOUT_FILE).read_bytes())
            others = await _other_corpus(pool, Path(root) / "others")
            heavy_off, heavy_on = [], []
            for _ in range(HEAVY_RUNS):
                heavy_off.append(
                    (await check(HEAVY, pool, Path(root) / "h0", layout=False)).seconds
                )
                heavy_on.append((await check(HEAVY, pool, Path(root) / "h1", layout=True)).seconds)
            heavy_data = (Path(root) / "h1" / LAYOUT_FILE).read_bytes()
            heavy_parsed = parse_records(heavy_data)
            assert heavy_parsed is not None
            started = time.perf_counter()
            hook_seconds = []
            for data in records:  # the service's share: parse and judge the records
                parsed = parse_records(data)
                assert parsed is not None
                find_problems(parsed, Context(code_lines=100, last_scene=False))
                hook_seconds.append(parsed.hook_seconds)
            judge_ms = (time.perf_counter() - started) * 1000 / len(records)
    finally:
        await pool.close()
    extra = [b - a for a, b in zip(off, on, strict=True)]
    return {
        **score(checked),
        "per_scene": {r.scene.name: sorted(r.kinds) for r in checked},
        "render_seconds_hook_off_median": round(statistics.median(off), 3),
        "render_seconds_hook_on_median": round(statistics.median(on), 3),
        "hook_extra_seconds_median": round(statistics.median(extra), 3),
        "hook_overhead_share": round(sum(on) / sum(off) - 1, 3),
        "judge_ms_per_scene": round(judge_ms, 2),
        # The hook's own time, measured inside the render (wall-clock differences above
        # are at the mercy of the machine's load).
        "hook_seconds_median": round(statistics.median(hook_seconds), 4),
        "hook_seconds_max": round(max(hook_seconds), 4),
        "hook_share_of_render_median": round(
            statistics.median(h / r.seconds for h, r in zip(hook_seconds, checked, strict=True)),
            4,
        ),
        "records_bytes_max": max(len(data) for data in records),
        # The API-rewrite corpus (LLM-style scenes, not written for this check), rewritten
        # and judged as last scenes: what the check flags in scenes nobody planted defects in.
        "rewrite_corpus": others,
        "heavy_scene": {
            "mobjects": "NumberPlane, 400 dots, 12 texts, 40 plays",
            "seconds_hook_off_median": round(statistics.median(heavy_off), 3),
            "seconds_hook_on_median": round(statistics.median(heavy_on), 3),
            "hook_overhead_share": round(
                statistics.median(heavy_on) / statistics.median(heavy_off) - 1, 3
            ),
            "records_bytes": len(heavy_data),
            "hook_seconds": heavy_parsed.hook_seconds,
            "hook_share_of_render": round(
                heavy_parsed.hook_seconds / statistics.median(heavy_on), 4
            ),
        },
        "renders": len(off) + len(on),
    }


async def _other_corpus(pool: WarmPool, root: Path) -> dict[str, Any]:
    rendered, flagged = 0, {}
    for scene in corpus_scenes():
        code, _ = rewrite_api(scene.code)
        try:
            clip = await render_scene(
                code,
                class_name=scene.class_name,
                quality="low",
                workdir=root / scene.name,
                timeout_seconds=120,
                launcher=pool,
                layout=True,
                check_policy=False,
            )
        except RenderFailure:
            continue
        rendered += 1
        context = Context(code_lines=len(code.splitlines()), last_scene=True)
        found = findings_of(clip.layout, context) if clip.layout else []
        if found:
            flagged[scene.name] = sorted({f.kind for f in found})
    return {"rendered": rendered, "flagged": len(flagged), "flagged_scenes": flagged}
