"""Slicing benchmark, side by side in one run: `python -m bench slicing`.

A 60 s 2D scene and a 22.5 s 3D scene (video time, low quality) go through a real stack
(gateway, renderer, storage; render cache off, so every job renders), rendered whole
(`SLICE_MIN_SECONDS=0`) and in slices (`SLICE_MAX=2`), with 1 and then 2 renderer
replicas. `MAX_CONCURRENT_RENDERS=1`, so a replica stands for one render's worth of CPU
(a pod), not for this machine's two cores. The owner's log gives each slice's cost: its
fast-forward (scene start to first rendered frame) and its whole render; from those (of
the one-replica run) a model predicts the speed-up with N replicas, each on its own cores.

Timings are wall clock on whatever else the machine is doing: rerun on a quiet one. The
2D jobs take seconds, so each is the median of three (all samples are kept).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from bench.slice_scenes import SCENES, code
from bench.stacks import bench_stack
from videogen.stack import Stack, waiting_pulls

MODES = {"whole": "0", "sliced": "10"}  # SLICE_MIN_SECONDS
MODEL_REPLICAS = (1, 2, 4, 8)
# Seconds-long 2D jobs swing by about 10 % on a shared machine: the median of three.
REPEATS = {"2d": 3, "2d_updaters": 3, "3d": 1}
_JOINED = "joined from"


def run() -> dict[str, Any]:
    results: dict[str, Any] = {kind: {"video_seconds": SCENES[kind][2]} for kind in SCENES}
    for mode, min_seconds in MODES.items():
        with (
            bench_stack(
                services=("gateway", "renderer", "storage"),
                DEFAULT_QUALITY="low",
                RENDER_CACHE_MB="0",
                MAX_CONCURRENT_RENDERS="1",
                SLICE_MIN_SECONDS=min_seconds,
                SLICE_MAX="2",
            ) as stack,
            httpx.Client(base_url=stack.base_url, timeout=60) as api,
        ):
            for replicas in (1, 2):
                extra = _second_replica(stack) if replicas == 2 else None
                try:
                    for kind in SCENES:
                        entry = _median_of(api, kind, REPEATS[kind])
                        results[kind][f"{mode}_{replicas}_replicas"] = entry
                        if mode == "sliced":
                            entry["slices"] = _slice_costs(stack, entry.pop("job"))
                finally:
                    if extra is not None:
                        extra.terminate()
                        extra.wait(timeout=60)
    for kind in SCENES:
        results[kind] |= _summary(results[kind])
    return results


def _median_of(api: httpx.Client, kind: str, repeats: int) -> dict[str, Any]:
    """The median of ``repeats`` fresh jobs (new code each: no cache), and every sample."""
    runs: list[dict[str, Any]] = []
    for _ in range(repeats):
        job, timing = _job(api, code(kind, uuid.uuid4().hex))
        runs.append({"job": job, **timing})
    runs.sort(key=lambda run: run["seconds"])
    return runs[len(runs) // 2] | {"samples": [run["seconds"] for run in runs]}


def _second_replica(stack: Stack) -> subprocess.Popen[bytes]:
    process = stack.start_replica("renderer", 2)
    _wait_listening(stack, stack.log_path("renderer-2"))
    return process


def _wait_listening(stack: Stack, log: Path, timeout: float = 120) -> None:
    """Until the second replica's warm pool is up and both replicas pull slices: a replica
    still starting takes no slice, and its imports would slow the other one down."""
    assert stack.nats is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready = "warm pool ready" in log.read_text(errors="replace")
        if ready and waiting_pulls(stack.nats.monitor_url).get("renderer-slices", 0) >= 2:
            return
        time.sleep(0.5)
    raise TimeoutError(f"the second renderer replica did not start; see {log}")


def _job(api: httpx.Client, scene: str) -> tuple[str, dict[str, float]]:
    """Run a job; its wall time and how many of the machine's cores were busy meanwhile."""
    started, busy = time.perf_counter(), busy_cpu_seconds()
    response = api.post("/api/v1/videos/render", json={"code": scene, "quality": "low"})
    response.raise_for_status()
    job = str(response.json()["job_id"])
    while True:
        status = api.get(f"/api/v1/videos/jobs/{job}/status").json()
        if status["status"] in ("completed", "failed", "cancelled"):
            break
        time.sleep(0.2)
    if status["status"] != "completed":
        raise RuntimeError(f"bench job ended {status['status']}: {status['error']}")
    wall = time.perf_counter() - started
    cores = (busy_cpu_seconds() - busy) / wall
    return job, {"seconds": round(wall, 2), "cores_busy": round(cores, 2)}


def busy_cpu_seconds() -> float:
    """CPU time the whole machine has spent not idle (every process: the stack too)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _slice_costs(stack: Stack, job: str) -> dict[str, Any]:
    """The owner's account of the slices of ``job`` (services/renderer/slices.py)."""
    for log in sorted((stack.data_dir / "logs").glob("renderer*.log")):
        for line in log.read_text(errors="replace").splitlines():
            if _JOINED in line and job in line:
                record = json.loads(line)
                return {
                    name: record[name]
                    for name in (
                        "dry_seconds",
                        "fast_forward_seconds",
                        "slice_seconds",
                        "video_seconds",
                    )
                }
    return {"error": "the scene was not sliced (see the renderer logs)"}


def _summary(result: dict[str, Any]) -> dict[str, Any]:
    whole = result["whole_1_replicas"]["seconds"]
    # Two replicas here share this machine's cores, and a whole render already keeps more
    # than one busy (the encoder has threads): `cores_busy` of each run shows how many.
    summary: dict[str, Any] = {
        "speedup_2_replicas": round(whole / result["sliced_2_replicas"]["seconds"], 2),
        "overhead_1_replica": round(result["sliced_1_replicas"]["seconds"] / whole, 2),
        "machine_cores": os.cpu_count(),
    }
    # Per-slice costs from the one-replica run: its slices ran one after the other, so
    # neither slowed the other down (with two replicas on two shared cores, they do).
    costs = result["sliced_1_replicas"].get("slices", {})
    if "slice_seconds" in costs:
        summary["model"] = model(result["video_seconds"], costs)
    return summary


def model(video: float, costs: dict[str, Any]) -> dict[str, Any]:
    """Predicted wall time and speed-up with N replicas (N slices, one each, own cores).

    From the measured slices: slice 0 (no prefix) gives the set-up before the first
    animation (``c``, its fast-forward time) and the render rate ``r`` (s per video
    second, everything else it did included); slice 1's longer fast-forward gives the
    fast-forward rate ``f`` per second of prefix. Slice i of N then costs
    ``c + f·(i·T/N) + r·T/N``; the scene takes the dry pass plus its last slice, the
    whole render ``c + r·T``. Joining (a stream copy, well under a second) and the bus
    are left out.
    """
    ff, seconds = costs["fast_forward_seconds"], costs["slice_seconds"]
    spans = costs["video_seconds"]
    setup = ff[0]
    rate = (seconds[0] - setup) / spans[0]
    per_prefix = max((ff[1] - setup) / spans[0], 0.0) if len(ff) > 1 else 0.0
    dry = costs["dry_seconds"]
    whole = setup + rate * video
    predicted: dict[str, Any] = {
        "setup_seconds": round(setup, 2),
        "render_seconds_per_video_second": round(rate, 3),
        "fast_forward_seconds_per_video_second": round(per_prefix, 3),
        "dry_seconds": dry,
        "whole_seconds": round(whole, 1),
    }
    for n in MODEL_REPLICAS:
        span = video / n
        wall = whole if n == 1 else dry + setup + per_prefix * (video - span) + rate * span
        predicted[f"n{n}"] = {"seconds": round(wall, 1), "speedup": round(whole / wall, 2)}
    return predicted


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
