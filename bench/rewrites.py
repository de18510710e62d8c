"""API-rewrite benchmark: which old-API corpus scenes render at the first attempt, before vs
after `shared.api_rewrites` (real renders through the renderer's warm pool at -ql).

`python -m bench rewrites` → bench/results/rewrites.json.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from services.renderer.render import RenderFailure, render_scene
from services.renderer.warm import WarmPool
from shared.api_rewrites import rewrite_api
from tests.quality.corpus_scenes import CorpusScene, corpus_scenes

TIMEOUT_SECONDS = 120.0


def run() -> dict[str, Any]:
    return asyncio.run(_run())


async def _run() -> dict[str, Any]:
    scenes = corpus_scenes()
    pool = WarmPool()
    await pool.start()
    rules: Counter[str] = Counter()
    rows = []
    started = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory(prefix="videogen-bench-rewrites-") as folder:
            for scene in scenes:
                rewritten, rewrites = rewrite_api(scene.code)
                rules.update(r.rule for r in rewrites)
                before = await _renders(pool, scene, scene.code, Path(folder) / "before")
                after = await _renders(pool, scene, rewritten, Path(folder) / "after")
                rows.append(
                    {
                        "scene": scene.name,
                        "rewrites": len(rewrites),
                        "before": before,
                        "after": after,
                    }
                )
    finally:
        await pool.close()
    total = len(rows)
    rendered_before = sum(r["before"] is None for r in rows)
    rendered_after = sum(r["after"] is None for r in rows)
    return {
        "scenes": total,
        "first_attempt_share_before": round(rendered_before / total, 3),
        "first_attempt_share_after": round(rendered_after / total, 3),
        "rendered_before": rendered_before,
        "rendered_after": rendered_after,
        "rewrites_by_rule": dict(rules.most_common()),
        "failures_after": {r["scene"]: r["after"] for r in rows if r["after"]},
        "failures_before": {r["scene"]: r["before"] for r in rows if r["before"]},
        "render_seconds": round(time.perf_counter() - started, 1),
    }


async def _renders(pool: WarmPool, scene: CorpusScene, code: str, root: Path) -> str | None:
    """None when the scene renders; else the render's one-line error."""
    try:
        await render_scene(
            code,
            class_name=scene.class_name,
            quality="low",
            workdir=root / scene.name,
            timeout_seconds=TIMEOUT_SECONDS,
            launcher=pool,
        )
    except RenderFailure as exc:
        return exc.message[:200]
    return None
