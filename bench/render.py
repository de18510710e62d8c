"""Renderer benchmark, side by side in one run: `python -m bench.render` prints `run()`'s JSON.

- the jailed warm pool vs the plain (unjailed) `manim` CLI and the jailed CLI, the same
  scenes at -ql and -qm (sequential: 2 cores);
- the jail's start-up cost per render: a trivial scene forked from a jailed and from an
  unjailed pool (and run by the jailed and the plain CLI), launch to exit;
- a cache hit (real JetStream object store) against the render it replaces;
- combining clips by stream copy vs re-encoding;
- scenes per minute through the whole stack with 1 and 2 renderer replicas.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import nats

from bench.stacks import bench_stack
from services.renderer.cache import RenderCache
from services.renderer.clipstore import ObjectStoreClips
from services.renderer.combine import combine_clips, reencode_clips
from services.renderer.engine import RenderEngine
from services.renderer.render import CliLauncher, Launcher, RenderRequest, render_scene
from services.renderer.sandbox import RenderLimits
from services.renderer.warm import WarmPool
from videogen.natsd import running_nats_server

SCENES = {
    "circle": "self.play(Create(Circle(color=BLUE)), run_time=2)",
    "text": "t = Text('Warm pool', font_size=64)\n        self.play(Write(t), run_time=2)",
    "plot": "ax = Axes(x_range=[-3, 3], y_range=[-1, 9])\n"
    "        self.play(Create(ax), Create(ax.plot(lambda x: x * x)), run_time=2)",
}
REPLICA_SCENES = 12


def _code(body: str, *, name: str = "Clip", salt: str = "") -> str:
    return (
        f"from manim import *\n\n# {salt}\n\nclass {name}(Scene):\n"
        f"    def construct(self):\n        {body}\n"
    )


def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="videogen-bench-render-") as folder:
        root = Path(folder)
        results = asyncio.run(_local(root))
        results["replicas"] = _replicas()
    return results


async def _local(root: Path) -> dict[str, Any]:
    pool = WarmPool()
    started = time.perf_counter()
    await pool.start()
    results: dict[str, Any] = {"pool_start_seconds": round(time.perf_counter() - started, 2)}
    clips: list[Path] = []
    try:
        for quality in ("low", "medium"):
            rows = []
            for name, body in SCENES.items():
                row: dict[str, Any] = {"scene": name}
                launchers = (
                    ("cli", CliLauncher(jail=None)),
                    ("cli_jailed", CliLauncher()),
                    ("warm", pool),
                )
                for path, launcher in launchers:
                    begin = time.perf_counter()
                    clip = await render_scene(
                        _code(body),
                        class_name="Clip",
                        quality=quality,
                        workdir=root / quality / name / path,
                        timeout_seconds=300,
                        launcher=launcher,
                    )
                    row[f"{path}_seconds"] = round(time.perf_counter() - begin, 3)
                    row["video_seconds"] = clip.duration_seconds
                    if quality == "medium" and path == "warm":
                        clips.append(clip.path)
                rows.append(row)
            cli = statistics.mean(r["cli_seconds"] for r in rows)
            jailed = statistics.mean(r["cli_jailed_seconds"] for r in rows)
            warm = statistics.mean(r["warm_seconds"] for r in rows)
            results[f"warm_vs_cli_{quality}"] = {
                "scenes": rows,
                "cli_mean_seconds": round(cli, 3),
                "cli_jailed_mean_seconds": round(jailed, 3),
                "warm_mean_seconds": round(warm, 3),
                "speedup": round(cli / warm, 2),
            }
        results["cache"] = await _cache(root, pool)
        results["jail_startup"] = await _jail_startup(root, pool)
    finally:
        await pool.close()
    results["combine"] = _combine(clips * 3, root)
    return results


async def _launch_to_exit(launcher: Launcher, workdir: Path) -> float:
    """Seconds from launch to exit of a scene that draws nothing (no clip is made)."""
    workdir.mkdir(parents=True)
    (workdir / "scene.py").write_text(_code("pass"))
    request = RenderRequest(
        workdir=workdir,
        class_name="Clip",
        quality="low",
        renderer="cairo",
        env=None,
        limits=RenderLimits(),
    )
    begin = time.perf_counter()
    process = await launcher.launch(request)
    code = await process.wait()
    assert code == 0, (workdir / "stderr.log").read_text()[-2000:]
    return time.perf_counter() - begin


async def _jail_startup(root: Path, jailed: WarmPool, runs: int = 10) -> dict[str, Any]:
    """What the jail and the cell add to one render: jailed vs unjailed, same scene."""
    plain = WarmPool(jail=None)
    await plain.start()
    try:
        times: dict[str, list[float]] = {
            "warm_jailed": [],
            "warm_unjailed": [],
            "cli_jailed": [],
            "cli_unjailed": [],
        }
        for run in range(runs):
            for name, launcher in (("warm_jailed", jailed), ("warm_unjailed", plain)):
                times[name].append(await _launch_to_exit(launcher, root / f"{name}-{run}"))
        for run in range(3):
            for name, cli in (
                ("cli_jailed", CliLauncher()),
                ("cli_unjailed", CliLauncher(jail=None)),
            ):
                times[name].append(await _launch_to_exit(cli, root / f"{name}-{run}"))
    finally:
        await plain.close()
    medians = {
        f"{name}_median_seconds": round(statistics.median(values), 4)
        for name, values in times.items()
    }
    medians["warm_jail_cost_seconds"] = round(
        medians["warm_jailed_median_seconds"] - medians["warm_unjailed_median_seconds"], 4
    )
    medians["cli_jail_cost_seconds"] = round(
        medians["cli_jailed_median_seconds"] - medians["cli_unjailed_median_seconds"], 4
    )
    return {"trivial_scene_runs": runs, **medians}


async def _cache(root: Path, pool: WarmPool) -> dict[str, Any]:
    with running_nats_server(root / "nats") as server:
        connection = await nats.connect(server.url)
        try:
            store = await connection.jetstream().create_object_store("bench-cache")
            cache = RenderCache(ObjectStoreClips(store), max_bytes=100 * 2**20)
            engine = RenderEngine(timeout_seconds=300, pool=pool, cache=cache)
            code = _code(SCENES["plot"])
            begin = time.perf_counter()
            await engine.render(
                code, class_name="Clip", quality="medium", workdir=root / "cache-miss"
            )
            miss = time.perf_counter() - begin
            hits = []
            for attempt in range(5):
                begin = time.perf_counter()
                clip = await engine.render(
                    code, class_name="Clip", quality="medium", workdir=root / f"cache-hit-{attempt}"
                )
                hits.append(time.perf_counter() - begin)
                assert clip.cached
        finally:
            await connection.close()
    return {
        "render_seconds": round(miss, 3),
        "hit_median_seconds": round(statistics.median(hits), 4),
        "clip_bytes": clip.path.stat().st_size,
    }


def _combine(clips: list[Path], root: Path) -> dict[str, Any]:
    begin = time.perf_counter()
    copied = combine_clips(clips, root / "copy.mp4")
    copy_seconds = time.perf_counter() - begin
    begin = time.perf_counter()
    reencode_clips(clips, root / "reencode.mp4")
    reencode_seconds = time.perf_counter() - begin
    return {
        "clips": len(clips),
        "video_seconds": round(copied.duration_seconds, 2),
        "stream_copy_seconds": round(copy_seconds, 3),
        "reencode_seconds": round(reencode_seconds, 3),
        "stream_copy_used": not copied.reencoded,
    }


def _replicas() -> dict[str, Any]:
    """Whole-stack throughput of one render-only job of REPLICA_SCENES -qm scenes."""
    with (
        bench_stack(
            services=("gateway", "renderer", "storage"),
            DEFAULT_QUALITY="low",
            MAX_CONCURRENT_RENDERS="1",
            RENDER_CACHE_MB="0",
        ) as stack,
        httpx.Client(base_url=stack.base_url, timeout=30) as api,
    ):
        one = _scenes_per_minute(api)
        with (stack.data_dir / "logs" / "renderer-2.log").open("ab") as log:
            second = subprocess.Popen(
                [sys.executable, "-m", "videogen", "worker", "renderer"],
                env={**stack.env, "METRICS_PORT": "0"},
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        try:
            time.sleep(4)  # its warm pool imports Manim
            two = _scenes_per_minute(api)
        finally:
            second.terminate()
            second.wait(timeout=30)
    return {
        "scenes": REPLICA_SCENES,
        "one_replica": one,
        "two_replicas": two,
        "speedup": round(two["scenes_per_minute"] / one["scenes_per_minute"], 2),
    }


def _scenes_per_minute(api: httpx.Client) -> dict[str, float]:
    salt = uuid.uuid4().hex
    code = "from manim import *\n" + "".join(
        _code(SCENES["plot"], name=f"S{index}", salt=salt).removeprefix("from manim import *\n")
        for index in range(REPLICA_SCENES)
    )
    begin = time.perf_counter()
    body = {"code": code, "quality": "medium"}
    job = api.post("/api/v1/videos/render", json=body).json()["job_id"]
    while True:
        status = api.get(f"/api/v1/videos/jobs/{job}/status").json()
        if status["status"] in ("completed", "failed", "cancelled"):
            break
        time.sleep(0.2)
    seconds = time.perf_counter() - begin
    if status["status"] != "completed":
        raise RuntimeError(f"bench job ended {status['status']}: {status['error']}")
    return {
        "seconds": round(seconds, 2),
        "scenes_per_minute": round(REPLICA_SCENES / seconds * 60, 1),
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
