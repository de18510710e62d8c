"""Orchestration overhead of a whole job: wall time minus the time stage work was running.

Stage work is read from the services' own JSON logs ("<work> finished" lines carry
`duration_seconds`); overlapping work (parallel renders) counts once, so what is left is
what the bus, the hand-offs between stages and the projection cost. The render cache is
off so that every job really renders.
"""

from __future__ import annotations

import json
import statistics
from datetime import datetime
from pathlib import Path

from bench.stacks import bench_stack
from videogen.client import VideogenClient
from videogen.topics import find_topic

TOPIC = "Cramer's Rule"  # the built-in model plans three scenes for it
JOBS = 3


def _work_intervals(logs: Path, job_id: str) -> list[tuple[float, float]]:
    intervals = []
    for log in logs.glob("*.log"):
        for line in log.read_text().splitlines():
            if job_id not in line or '"duration_seconds"' not in line:
                continue
            record = json.loads(line)
            if record.get("job_id") != job_id or not record["message"].endswith("finished"):
                continue
            end = _seconds(record["timestamp"])
            intervals.append((end - record["duration_seconds"], end))
    return intervals


def _union_length(intervals: list[tuple[float, float]]) -> float:
    total, reach = 0.0, float("-inf")
    for start, end in sorted(intervals):
        if end > reach:
            total += end - max(start, reach)
            reach = end
    return total


def _seconds(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def run() -> dict[str, object]:
    topic = find_topic(TOPIC)
    samples = []
    # The render cache is off: every job renders its scenes, as a new topic would.
    with bench_stack(DEFAULT_QUALITY="low", RENDER_CACHE_MB="0") as stack:
        client = VideogenClient(stack.base_url)
        for _ in range(JOBS):
            job_id = client.generate(topic.topic, topic.context, quality="low")["job_id"]
            final = list(client.watch(job_id, interval=0.1))[-1]
            assert final["status"] == "completed", final
            wall = _seconds(final["completed_at"]) - _seconds(final["created_at"])
            work = _union_length(_work_intervals(stack.data_dir / "logs", job_id))
            samples.append(
                {
                    "scenes": len(final["scenes"]),
                    "wall_seconds": round(wall, 2),
                    "stage_work_seconds": round(work, 2),
                    "overhead_seconds": round(wall - work, 2),
                }
            )
    return {
        "topic": TOPIC,
        "quality": "low",
        "jobs": samples,
        "median_overhead_seconds": statistics.median(s["overhead_seconds"] for s in samples),
        "median_wall_seconds": statistics.median(s["wall_seconds"] for s in samples),
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
