"""Layout-check benchmark: precision and recall on the labelled corpus, and what the hook
costs a render (the same scenes through the jailed warm pool at -ql, hook off vs on,
interleaved so machine load hits both alike).

`python -m bench layout` → bench/results/layout.json.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from services.renderer.layout import Context, find_problems, parse_records
from services.renderer.layout_hook import LAYOUT_FILE
from services.renderer.warm import WarmPool
from tests.quality.layout_scenes import Checked, check, labelled_scenes, score

ROUNDS = 2


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
            started = time.perf_counter()
            for data in records:  # the service's share: parse and judge the records
                parsed = parse_records(data)
                assert parsed is not None
                find_problems(parsed, Context(code_lines=100, last_scene=False))
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
        "records_bytes_max": max(len(data) for data in records),
        "renders": len(off) + len(on),
    }
